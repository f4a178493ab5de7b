"""``acglab data extract ROOT --out DIR``: detect and crop the faces of a dataset's videos."""

from __future__ import annotations

import argparse


def parse_margin(text: str):
    """``"0.15"`` -> 0.15; ``"0.15,0.17"`` -> (horizontal, vertical); four numbers -> (l, t, r, b)."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"margin must be numbers separated by commas, got {text!r}") from None
    if len(values) not in (1, 2, 4):
        raise argparse.ArgumentTypeError(f"margin takes 1, 2 or 4 numbers, got {len(values)}")
    if any(not (-0.45 <= v <= 10) for v in values):
        raise argparse.ArgumentTypeError(f"margins must lie in [-0.45, 10], got {text!r}")
    return values[0] if len(values) == 1 else tuple(values)


def parse_size(text: str):
    """``"299"`` -> 299 (square); ``"152x184"`` -> (152, 184) as (width, height)."""
    try:
        values = [int(v) for v in text.lower().split("x")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be N or WxH, got {text!r}") from None
    if len(values) not in (1, 2) or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"size must be N or WxH with positive numbers, got {text!r}")
    return values[0] if len(values) == 1 else tuple(values)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "extract",
        help="detect and crop faces from videos or frames (Celeb-DF or real/fake folders)",
        description=(
            "Take N evenly spaced frames of every video in ROOT, detect the face (MTCNN), crop it with "
            "a margin and write OUT/<category>/<video>_<k>.jpg. Frames without a face and unreadable "
            "files are skipped and listed in OUT/skipped.json; re-running skips finished crops."
        ),
    )
    p.add_argument("root", metavar="ROOT", help="dataset folder: Celeb-DF v2 (videos or frames) or real/ + fake/")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder for the face crops")
    p.add_argument("--frames", type=positive_int, default=5, metavar="N", help="frames per video (default 5)")
    p.add_argument(
        "--margin",
        type=parse_margin,
        default=None,
        metavar="M",
        help="margin per side as a fraction of the face box: M, MX,MY or L,T,R,B (default 0.15,0.17)",
    )
    p.add_argument(
        "--size", type=parse_size, default=None, metavar="N|WxH", help="resize crops (default: keep native resolution)"
    )
    p.add_argument("--device", default="cpu", help="torch device of the face detector (default cpu)")
    p.add_argument(
        "--choose",
        choices=("best", "largest"),
        default="best",
        help="face kept when several are found (default: best score)",
    )
    p.add_argument(
        "--min-face-size",
        type=positive_int,
        default=None,
        metavar="PX",
        help="smallest face side searched for, in pixels (default 40)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=handle)


def handle(args) -> int:
    from acglab.data.extract import extract_faces

    summary = extract_faces(
        args.root,
        args.out,
        frames=args.frames,
        margin=args.margin,
        size=args.size,
        device=args.device,
        choose=args.choose,
        min_face_size=args.min_face_size,
        progress=not args.no_progress,
    )
    print(summary.line())
    return 0
