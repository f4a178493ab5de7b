"""``acglab edit``: semantic face editing on a photo (thesis title task).

    acglab edit FACE.jpg --op replace --part eyes --with OTHER.jpg --out edited.png --json
    acglab edit FACE.jpg --op delete --part brows --out no-brows.png
    acglab edit FACE.jpg --op modify --part nose --amount 0.3 --out bigger-nose.png
    acglab edit FACE.jpg --op synthesize --with A.jpg --with B.jpg --out composite.png
    acglab edit FOLDER --op replace --part mouth --out-dir edited-set     # a labelled test set

With ``--out-dir`` the input is a folder: every image in it is edited (donors: the next images
with a compatible face) and written before/after as face crops to ``OUT_DIR/real`` and
``OUT_DIR/fake`` (the generic layout ``acglab eval --data`` reads), with ``edits.json``.

The largest face of each image is used (the message says which when there are several).
``--json`` prints ``{"op", "part", "bbox", "changed_outside", ...}``: ``changed_outside`` is the
share of pixels outside the part's region grown by the blending band that changed by more than
8 grey levels (0 when the edit stays where it should).
"""

from __future__ import annotations

import json
import sys

#: as :data:`acglab.edit.geometric.OPS`, :data:`~acglab.edit.geometric.DEFAULT_BLEND` and
#: :data:`acglab.faces.parts.PARTS` (kept here so that building the parser does not import
#: OpenCV; a test checks they agree)
OPS = ("replace", "delete", "modify", "synthesize")
DEFAULT_BLEND = 0.12
PARTS = ("left_eye", "right_eye", "eyes", "left_brow", "right_brow", "brows", "nose", "mouth", "jaw", "skin", "face")


def register(sub) -> None:
    p = sub.add_parser("edit", help="replace, delete, modify or synthesize face parts in a photo")
    p.add_argument("image", metavar="IMAGE", help="photo with a face (with --out-dir: a folder of photos)")
    p.add_argument("--op", required=True, choices=OPS)
    p.add_argument(
        "--part",
        metavar="NAME",
        help=f"face part: {', '.join(PARTS)} (synthesize: comma-separated, one per --with; default eyes,nose,mouth)",
    )
    p.add_argument(
        "--with",
        dest="donors",
        action="append",
        default=[],
        metavar="OTHER_IMAGE",
        help="donor face (replace: one; synthesize: one or more)",
    )
    p.add_argument(
        "--amount", type=float, default=0.3, metavar="X", help="modify: scale the part by 1 + X (default 0.3)"
    )
    p.add_argument("--dx", type=float, default=0.0, help="modify: move right by this many eye distances")
    p.add_argument("--dy", type=float, default=0.0, help="modify: move down by this many eye distances")
    p.add_argument("--hue", type=float, default=0.0, help="modify: turn the part's hue by this many degrees")
    p.add_argument(
        "--blend", type=float, default=DEFAULT_BLEND, help=f"blending band in eye distances (default {DEFAULT_BLEND})"
    )
    p.add_argument("--poisson", action="store_true", help="replace: gradient-domain (Poisson) blending")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--out", metavar="OUT", help="edited image (.png or .jpg)")
    out.add_argument("--out-dir", metavar="DIR", help="edit every image of the folder IMAGE into a real/fake set here")
    p.add_argument("--json", action="store_true", help="print the edit's record as JSON")
    p.set_defaults(func=handle_edit)


def _parts_for(args) -> list[str]:
    from acglab.faces.parts import PartError, check_part

    if args.op == "synthesize":
        parts = args.part.split(",") if args.part else ["eyes", "nose", "mouth"][: max(1, len(args.donors))]
        if len(args.donors) not in (1, len(parts)):
            raise PartError(
                f"synthesize takes one donor per part ({len(parts)} parts: {', '.join(parts)}), "
                f"or one donor for all; got {len(args.donors)}"
            )
    else:
        if not args.part:
            raise PartError(f"--op {args.op} needs --part NAME")
        parts = [args.part]
    return [check_part(p) for p in parts]


def handle_edit(args) -> int:
    from pathlib import Path

    from acglab.data.images import load_image, save_image
    from acglab.edit.faces import locate_face
    from acglab.edit.geometric import check_image_size, delete_part, modify_part, replace_part, synthesize_face
    from acglab.faces.parts import PartError

    parts = _parts_for(args)  # bad names fail before any work
    if args.out_dir:
        return _edit_folder(args, parts)
    if args.op in ("replace", "synthesize") and not args.donors:
        raise PartError(f"--op {args.op} needs a donor face: --with OTHER_IMAGE")
    if args.op in ("delete", "modify") and args.donors:
        raise PartError(f"--op {args.op} takes no --with image")
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise PartError(f"--out must end in .png or .jpg, got {out.name}")
    image = load_image(args.image)
    face = locate_face(image, args.image)
    check_image_size(image, face.landmarks)
    notes = [face.describe(args.image)]
    donors = []
    for path in args.donors:
        donor = load_image(path)
        located = locate_face(donor, path)
        notes.append(located.describe(path))
        donors.append((donor, located.landmarks))
    if args.op == "replace":
        result = replace_part(
            image, face.landmarks, *donors[0], parts[0], args.blend, method="poisson" if args.poisson else "alpha"
        )
    elif args.op == "delete":
        result = delete_part(image, face.landmarks, parts[0], args.blend)
    elif args.op == "modify":
        result = modify_part(image, face.landmarks, parts[0], args.amount, args.dx, args.dy, args.hue, args.blend)
    else:
        chosen = donors * len(parts) if len(donors) == 1 else donors
        result = synthesize_face(
            image, face.landmarks, [(d, lm, part) for (d, lm), part in zip(chosen, parts)], args.blend
        )
    save_image(out, result.image)
    for line in notes:
        print(line, file=sys.stderr)
    record = {**result.summary(), "out": str(out)}
    if args.json:
        print(json.dumps(record))
    else:
        print(
            f"{args.op} {result.part}: wrote {out} (pixels changed outside the blending band: "
            f"{100 * result.changed_outside:.2f}%)"
        )
    return 0


def _edit_folder(args, parts) -> int:
    from acglab.edit.dataset import write_edit_set
    from acglab.faces.parts import PartError

    if args.donors:
        raise PartError("with --out-dir the donors are the folder's other images; drop --with")
    options = {"blend": args.blend}
    if args.op == "modify":
        options.update(amount=args.amount, dx=args.dx, dy=args.dy, hue=args.hue)
    if args.op == "replace" and args.poisson:
        options["method"] = "poisson"
    summary = write_edit_set(args.image, args.out_dir, args.op, parts, **options)
    if args.json:
        print(json.dumps({k: v for k, v in summary.items() if k != "records"}))
    else:
        print(
            f"{args.op} {'+'.join(parts)}: {summary['written']} of {summary['images']} images written to "
            f"{args.out_dir}/real and {args.out_dir}/fake ({len(summary['skipped'])} skipped, reasons in "
            f"{args.out_dir}/edits.json)"
        )
    return 0
