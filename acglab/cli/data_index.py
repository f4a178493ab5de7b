"""``acglab data index DATA [--json]``: list a dataset's videos and frames without opening them."""

from __future__ import annotations

import json

from acglab.data.layouts import detect_layout, load_dataset


def register(sub) -> None:
    p = sub.add_parser("index", help="count the videos and frames of a dataset folder (layout detected)")
    p.add_argument(
        "data", metavar="DATA", help="dataset folder (Celeb-DF, WildDeepfake, FaceForensics++, real/ + fake/)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=handle)


def index_summary(path) -> dict:
    """``SampleTable.summary()`` of the dataset at ``path`` with its ``layout`` and ``path``."""
    layout = detect_layout(path)
    table = load_dataset(path)
    return {**table.summary(), "layout": layout, "path": str(path)}


def format_summary(summary: dict) -> str:
    """The human-readable table printed without ``--json``."""
    rows = [
        ("dataset", summary["dataset"]),
        ("layout", summary["layout"]),
        ("videos", f"{summary['videos']} ({summary['real_videos']} real, {summary['fake_videos']} fake)"),
        ("frames", summary["frames"] or "none (video files)"),
    ]
    rows += [(f"  {name}", count) for name, count in summary["categories"].items()]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def handle(args) -> int:
    summary = index_summary(args.data)
    print(json.dumps(summary) if args.json else format_summary(summary))
    return 0
