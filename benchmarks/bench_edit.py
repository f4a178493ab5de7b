"""Semantic face editing on every full frame of a dataset: does each edit stay inside its
blending band, how long does it take, and how visible is the seam of a replaced part compared
with a plain cut-and-paste?

For each frame (``DATA/frames/**.jpg``, e.g. celebdf-mini's 397 full frames) the largest face
is located (MTCNN + dlib's 68 landmarks, timed apart), then the four operations run, the donor
of replace/synthesize being the next frame in sorted order:

    replace eyes / replace mouth (Poisson) / delete brows / modify nose (+30 %) /
    modify mouth (hue +60 degrees) / synthesize eyes + nose + mouth

Reported: frames used (and why others were skipped), the share of pixels changed by more than 8
grey levels outside the band (mean and max over frames), time per edit, and the *seam contrast*
of ``replace mouth`` against the baseline -- the donor's aligned mouth pasted through the hard
mask, no colour match, no feathering: the mean absolute Laplacian of the edited image on the
mask's boundary ring divided by the original image's there (1 = no seam). Usage:

    python benchmarks/bench_edit.py --data ../shared/data/celebdf-mini [--limit N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import cv2
import numpy as np


def seam_contrast(original: np.ndarray, edited: np.ndarray, mask: np.ndarray, width: int = 2) -> float:
    """Mean |Laplacian| of ``edited`` on the ring of ``width`` pixels around the mask's boundary,
    divided by the same for ``original`` (1: the boundary is as smooth as the photo was)."""
    ring = cv2.dilate(mask, np.ones((2 * width + 1,) * 2, np.uint8)) - cv2.erode(
        mask, np.ones((2 * width + 1,) * 2, np.uint8)
    )
    ring = ring.astype(bool)

    def energy(img):
        grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
        return float(np.abs(cv2.Laplacian(grey, cv2.CV_32F))[ring].mean())

    return energy(edited) / max(energy(original), 1e-6)


def hard_paste(image, landmarks, donor, donor_landmarks, part):
    """The baseline: the donor's part aligned by the same similarity, pasted through the hard mask."""
    from acglab.faces.parts import part_mask, part_points
    from acglab.synth.align import similarity_transform, warp_image

    mask = part_mask(image.shape, landmarks, part)
    matrix = similarity_transform(part_points(donor_landmarks, part), part_points(landmarks, part))
    warped = warp_image(donor, matrix, image.shape[:2])
    out = image.copy()
    out[mask > 0] = warped[mask > 0]
    return out, mask


def main() -> None:
    from acglab.data.images import load_image
    from acglab.edit import delete_part, modify_part, replace_part, synthesize_face
    from acglab.edit.faces import locate_face
    from acglab.errors import AcglabError

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--limit", type=int, default=None, help="only the first N frames")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    frames = sorted((args.data / "frames").rglob("*.jpg"))[: args.limit]
    if not frames:
        raise SystemExit(f"no frames under {args.data / 'frames'}")
    located, skipped, locate_time = [], {}, []
    from tqdm.auto import tqdm

    for path in tqdm(frames, desc="faces", unit="frame"):
        image = load_image(path)
        t = time.perf_counter()
        try:
            face = locate_face(image, str(path))
        except AcglabError as err:
            skipped[str(path)] = str(err)
            continue
        locate_time.append(time.perf_counter() - t)
        located.append((path, image, face.landmarks))
    ops = {
        "replace eyes": lambda a, la, b, lb: replace_part(a, la, b, lb, "eyes"),
        "replace mouth (Poisson)": lambda a, la, b, lb: replace_part(a, la, b, lb, "mouth", method="poisson"),
        "delete brows": lambda a, la, b, lb: delete_part(a, la, "brows"),
        "modify nose +30%": lambda a, la, b, lb: modify_part(a, la, "nose", amount=0.3),
        "modify mouth hue +60": lambda a, la, b, lb: modify_part(a, la, "mouth", hue=60),
        "synthesize eyes+nose+mouth": lambda a, la, b, lb: synthesize_face(
            a, la, [(b, lb, "eyes"), (b, lb, "nose"), (b, lb, "mouth")]
        ),
    }
    results = {name: {"changed_outside": [], "seconds": [], "refused": {}} for name in ops}
    seams = {"ours": [], "hard paste": []}
    for k, (path, image, lm) in enumerate(tqdm(located, desc="edits", unit="frame")):
        _, donor, donor_lm = located[(k + 1) % len(located)]
        for name, op in ops.items():
            t = time.perf_counter()
            try:
                result = op(image, lm, donor, donor_lm)
            except AcglabError as err:
                results[name]["refused"][str(path)] = str(err)
                continue
            results[name]["seconds"].append(time.perf_counter() - t)
            results[name]["changed_outside"].append(result.changed_outside)
            if name == "replace mouth (Poisson)":
                baseline, mask = hard_paste(image, lm, donor, donor_lm, "mouth")
                seams["ours"].append(seam_contrast(image, result.image, mask))
                seams["hard paste"].append(seam_contrast(image, baseline, mask))
    print(
        f"{platform.processor() or platform.machine()}, {len(frames)} frames, {len(located)} with a face "
        f"({len(skipped)} skipped); locating a face: {np.median(locate_time):.2f} s median"
    )
    print("| edit | frames edited | refused | changed outside the band: mean / max | time per edit (median) |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        c = np.array(r["changed_outside"])
        print(
            f"| {name} | {len(c)} | {len(r['refused'])} | {c.mean():.5f} / {c.max():.5f} | "
            f"{1000 * np.median(r['seconds']):.0f} ms |"
        )
    ours, base = np.median(seams["ours"]), np.median(seams["hard paste"])
    print(
        f"seam contrast of replace mouth (median over frames): ours {ours:.2f}, hard paste {base:.2f}; "
        f"ratio {base / ours:.2f}x"
    )
    reasons = {}
    for r in results.values():
        for msg in r["refused"].values():
            key = msg.split(" (")[0]
            reasons[key] = reasons.get(key, 0) + 1
    if reasons:
        print("refusals:", reasons)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "frames": len(frames),
                    "located": len(located),
                    "skipped": skipped,
                    "results": results,
                    "seams": seams,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
