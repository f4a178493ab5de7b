"""Does the detector find local edits? Its scores on `acglab edit --out-dir` sets against its
scores on the dataset's own deepfakes, for the same real faces.

The real full frames of the split's held-out parts (``--parts``, default val and test: videos
the detector never trained on) are edited six ways (:data:`EDITS`, the same as
``bench_edit.py``) with :func:`acglab.edit.dataset.write_edit_set`, which writes before/after
face crops in the generic ``real/ fake/`` layout. The reference set holds the same real crops
and the crops, cut the same way, of the full frames of the deepfake videos of those parts.
Each checkpoint scores every set; reported per set: the frame AUC (real crops against edited
ones) with its bootstrap 95 % interval, the mean P(fake) of the edited crops and the share of
them above 0.5. Usage:

    python benchmarks/detect_edits.py --data ../shared/data/celebdf-mini --split SPLIT.json \\
        --checkpoint NAME=RUN/last.pt [--checkpoint NAME2=RUN2/last.pt] --work DIR [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

#: name -> (operation, parts, options)
EDITS = {
    "replace eyes": ("replace", ["eyes"], {}),
    "replace mouth (Poisson)": ("replace", ["mouth"], {"method": "poisson"}),
    "delete brows": ("delete", ["brows"], {}),
    "modify nose +30%": ("modify", ["nose"], {"amount": 0.3}),
    "modify mouth hue +60": ("modify", ["mouth"], {"hue": 60.0}),
    "synthesize eyes+nose+mouth": ("synthesize", ["eyes", "nose", "mouth"], {}),
}
REFERENCE = "Celeb-DF deepfakes (same crops)"


def held_out_frames(data: Path, split: dict, parts: list[str]) -> tuple[list[Path], list[Path]]:
    """Full frames of the real and of the fake videos in the split's ``parts``."""
    videos = [v for part in parts for v in split[part]]
    real, fake = [], []
    for video in sorted(videos):
        frames = sorted((data / "frames").glob(f"{video}_*.jpg"))
        (real if video.split("/")[0].endswith("-real") else fake).extend(frames)
    return real, fake


def link_folder(paths: list[Path], root: Path, folder: Path) -> Path:
    """A folder of symbolic links to ``paths`` (relative names kept), for the edit-set writer."""
    for path in paths:
        link = folder / path.relative_to(root)
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            os.symlink(path.resolve(), link)
    return folder


def write_reference(real_set: Path, fakes: list[Path], frames_root: Path, out: Path) -> dict:
    """``out/real`` = the real crops of ``real_set``; ``out/fake`` = the deepfake frames cut the
    same way (largest face, the detector's margin)."""
    import shutil

    from acglab.data.images import load_image, save_image
    from acglab.edit.faces import locate_face
    from acglab.errors import AcglabError
    from acglab.faces.crop import DEFAULT_MARGIN, crop_box

    (out / "real").mkdir(parents=True, exist_ok=True)
    for crop in sorted((real_set / "real").glob("*.png")):
        if not (out / "real" / crop.name).exists():
            shutil.copyfile(crop, out / "real" / crop.name)
    skipped = {}
    for path in fakes:
        target = out / "fake" / (str(path.relative_to(frames_root).with_suffix("")).replace("/", "__") + ".png")
        if target.exists():
            continue
        image = load_image(path)
        try:
            face = locate_face(image, str(path))
        except AcglabError as err:
            skipped[str(path)] = str(err)
            continue
        x0, y0, x1, y1 = crop_box(face.box, image.shape, DEFAULT_MARGIN)
        save_image(target, image[y0:y1, x0:x1])
    return skipped


def score_set(model, folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Labels (1 real, 0 fake) and P(fake) of every crop of a generic real/fake folder."""
    from acglab.data import load_dataset
    from acglab.eval.predict import predict_table

    table = load_dataset(folder)
    return np.asarray(table.labels), predict_table(model, table)


def main() -> None:
    from acglab.edit.dataset import write_edit_set
    from acglab.labels import FAKE
    from acglab.metrics.bootstrap import auc_interval
    from acglab.models.checkpoint import load_checkpoint, model_from_checkpoint

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--split", required=True, type=Path)
    p.add_argument("--parts", nargs="+", default=["val", "test"])
    p.add_argument("--checkpoint", action="append", required=True, metavar="NAME=PATH")
    p.add_argument("--work", required=True, type=Path, help="folder for the edit sets (kept: reruns reuse them)")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    torch_threads = int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
    if torch_threads:
        import torch

        torch.set_num_threads(torch_threads)
    split = json.loads(args.split.read_text())
    real, fake = held_out_frames(args.data, split, args.parts)
    print(f"{len(real)} real and {len(fake)} deepfake full frames in {', '.join(args.parts)}")
    frames = link_folder(real, args.data / "frames", args.work / "frames")
    sets, edit_info = {}, {}
    t0 = time.perf_counter()
    for name, (op, parts, options) in EDITS.items():
        folder = args.work / name.split(" (")[0].replace(" ", "-").replace("%", "").replace("+", "p")
        summary = write_edit_set(frames, folder, op, parts, **options)
        sets[name] = folder
        edit_info[name] = {"written": summary["written"], "skipped": len(summary["skipped"])}
    edit_seconds = time.perf_counter() - t0
    reference = args.work / "deepfakes"
    skipped = write_reference(sets["delete brows"], fake, args.data / "frames", reference)
    sets[REFERENCE] = reference
    edit_info[REFERENCE] = {"written": len(list((reference / "fake").glob("*.png"))), "skipped": len(skipped)}
    results = {}
    for spec in args.checkpoint:
        cname, _, path = spec.partition("=")
        model = model_from_checkpoint(load_checkpoint(path, map_location="cpu"), map_location="cpu").eval()
        results[cname] = {}
        for name, folder in sets.items():
            labels, scores = score_set(model, folder)
            fakes = scores[labels == FAKE]
            ci = auc_interval(labels, scores)
            results[cname][name] = {
                "auc": ci.estimate,
                "low": ci.low,
                "high": ci.high,
                "n_real": int((labels != FAKE).sum()),
                "n_fake": int(len(fakes)),
                "mean_p_fake": float(fakes.mean()),
                "flagged": float((fakes > 0.5).mean()),
                "mean_p_fake_real": float(scores[labels != FAKE].mean()),
            }
    print(f"{platform.processor() or platform.machine()}; edit sets written in {edit_seconds:.0f} s")
    print(
        "| checkpoint | fake set | crops (real / fake) | frame AUC [95% CI] | mean P(fake) of fakes | share flagged (P > 0.5) |"
    )
    print("|---|---|---|---|---|---|")
    for cname, rows in results.items():
        for name, r in rows.items():
            print(
                f"| {cname} | {name} | {r['n_real']} / {r['n_fake']} | {r['auc']:.3f} [{r['low']:.3f}, {r['high']:.3f}] | "
                f"{r['mean_p_fake']:.3f} | {100 * r['flagged']:.0f}% |"
            )
        print(f"| {cname} | (real crops: mean P(fake) {rows[REFERENCE]['mean_p_fake_real']:.3f}) | | | | |")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"parts": args.parts, "sets": edit_info, "results": results, "edit_seconds": edit_seconds}, indent=1
            )
        )


if __name__ == "__main__":
    main()
