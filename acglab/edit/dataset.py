"""Local edits as a labelled test set: every photo of a folder, before and after one edit, as
face crops in the generic ``real/ fake/`` layout (:mod:`acglab.data.layouts.generic`), so that
``acglab eval --checkpoint RUN/best.pt --data OUT_DIR`` scores a detector on local edits.

For each image (sorted order): the largest face is located, the edit applied (the donor of
replace / synthesize is the next image whose face is compatible in size and head turn), and
the face crop (the detector's margin, :data:`acglab.faces.crop.DEFAULT_MARGIN`) is written to
``real/<stem>.png`` unedited and to ``fake/<stem>-<op>-<part>.png`` edited. Images without a
usable face, or whose edit is refused, are listed with the reason in ``edits.json`` beside the
records of the written pairs (bbox, share changed outside the band). Files are written
atomically; a pair already on disk is kept, so an interrupted run continues where it stopped.
"""

from __future__ import annotations

import json
from pathlib import Path

from acglab.errors import AcglabError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def list_images(folder) -> list[Path]:
    """The images below ``folder``, sorted (AcglabError when there are none)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AcglabError(f"{folder} is not a folder")
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
    if not paths:
        raise AcglabError(f"no images (.jpg, .png) below {folder}")
    return paths


def _edit_one(image, face, i: int, face_of, n: int, op: str, parts: list[str], search: int, options: dict):
    """The edit ``op`` of image ``i``; ``replace`` and ``synthesize`` take the first compatible donor
    face among the next ``search`` images (``face_of(j)``: ``(image, face)`` or the error)."""
    from acglab.edit.geometric import apply_edit, compatible, synthesize_face

    donor = None
    if op in ("replace", "synthesize"):
        for j in range(i + 1, i + 1 + search):
            other = face_of(j % n)
            if j % n != i and not isinstance(other, AcglabError) and compatible(face.landmarks, other[1].landmarks):
                donor = other
                break
        if donor is None:
            raise AcglabError(f"no compatible donor face among the next {search} images")
    if op == "synthesize":
        return synthesize_face(image, face.landmarks, [(donor[0], donor[1].landmarks, p) for p in parts], **options)
    donor_image, donor_landmarks = (donor[0], donor[1].landmarks) if donor else (None, None)
    return apply_edit(image, face.landmarks, op, parts[0], donor_image, donor_landmarks, **options)


def write_edit_set(
    folder, out_dir, op: str, parts: list[str], progress: bool = True, search: int = 8, **options
) -> dict:
    """Write the before/after face crops of one edit over every image of ``folder`` (module
    notes). ``options`` go to the edit (``blend``, ``amount``, ``hue``, ...). Returns the
    summary also written to ``OUT_DIR/edits.json``."""
    from tqdm.auto import tqdm

    from acglab.data.images import load_image, save_image
    from acglab.edit.faces import locate_face
    from acglab.faces.crop import DEFAULT_MARGIN, crop_box
    from acglab.fileio import write_text_atomic

    paths = list_images(folder)
    out_dir = Path(out_dir)
    name = f"{op}-{'+'.join(parts)}"
    located: dict[int, object] = {}

    def face_of(i):
        if i not in located:
            try:
                image = load_image(paths[i])
                located[i] = (image, locate_face(image, str(paths[i])))
            except AcglabError as err:
                located[i] = err
        return located[i]

    records, skipped = [], {}
    for i, path in enumerate(tqdm(paths, desc=f"edits ({name})", unit="image", disable=not progress)):
        stem = str(path.relative_to(folder).with_suffix("")).replace("/", "__")
        real_out, fake_out = out_dir / "real" / f"{stem}.png", out_dir / "fake" / f"{stem}-{name}.png"
        if real_out.is_file() and fake_out.is_file():
            records.append({"image": str(path), "real": str(real_out), "fake": str(fake_out), "kept": True})
            continue
        found = face_of(i)
        if isinstance(found, AcglabError):
            skipped[str(path)] = str(found)
            continue
        image, face = found
        try:
            result = _edit_one(image, face, i, face_of, len(paths), op, parts, search, options)
        except AcglabError as err:
            skipped[str(path)] = str(err)
            continue
        x0, y0, x1, y1 = crop_box(face.box, image.shape, DEFAULT_MARGIN)
        save_image(real_out, image[y0:y1, x0:x1])
        save_image(fake_out, result.image[y0:y1, x0:x1])
        records.append({"image": str(path), "real": str(real_out), "fake": str(fake_out), **result.summary()})
    summary = {
        "op": op,
        "parts": parts,
        "images": len(paths),
        "written": len(records),
        "skipped": skipped,
        "records": records,
    }
    write_text_atomic(out_dir / "edits.json", json.dumps(summary, indent=1))
    return summary
