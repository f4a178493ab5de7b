"""``acglab data split`` and ``acglab data check-split``: make honest splits and check any split."""

from __future__ import annotations

import json
import sys

from acglab.data.layouts import load_dataset
from acglab.data.splits import PARTS, SPLIT_KINDS, Split, check_split, load_split, make_split, save_split


def register(sub) -> None:
    p = sub.add_parser("split", help="split a dataset into train/val/test without leaking identities")
    p.add_argument("data", metavar="DATA", help="dataset folder")
    p.add_argument(
        "--by",
        choices=SPLIT_KINDS,
        default="target",
        help="target: group videos by target identity (default); identity: no identity on two sides, "
        "bridging videos dropped; video: each video alone; official: the published partition",
    )
    p.add_argument(
        "--test-fraction",
        type=float,
        default=0.2,
        metavar="F",
        help="share of test videos (default 0.2; not used by official)",
    )
    p.add_argument("--val-fraction", type=float, default=0.1, metavar="F", help="share of val videos (default 0.1)")
    p.add_argument("--seed", type=int, default=0, help="random seed (the split is deterministic given it)")
    p.add_argument("--out", required=True, metavar="SPLIT.json", help="where to write the split file")
    p.set_defaults(func=handle_split)

    c = sub.add_parser("check-split", help="report videos and identities shared between the parts of a split")
    c.add_argument("split", metavar="SPLIT.json", help="split file written by `acglab data split`")
    c.add_argument("--data", required=True, metavar="DATA", help="the dataset folder the split is for")
    c.add_argument("--json", action="store_true", help="print the report as one JSON object")
    c.set_defaults(func=handle_check)


def split_line(split: Split, out) -> str:
    """``out: by target, train 277 (101 real, 176 fake), val ..., test ..., dropped 0``."""
    counts = split.meta["counts"]
    parts = [f"{p} {sum(counts[p].values())} ({counts[p]['real']} real, {counts[p]['fake']} fake)" for p in PARTS]
    return f"{out}: by {split.meta['by']}, {', '.join(parts)}, dropped {counts['dropped']}"


def handle_split(args) -> int:
    table = load_dataset(args.data)
    split = make_split(
        table,
        by=args.by,
        test_fraction=args.test_fraction,
        val_fraction=args.val_fraction,
        seed=args.seed,
        root=args.data,
        progress=sys.stderr.isatty(),
    )
    save_split(split, args.out)
    for note in split.meta.get("notes", []):
        print(f"acglab: note: {note}", file=sys.stderr)
    print(split_line(split, args.out))
    return 0


def format_report(report) -> str:
    """The human-readable report printed without ``--json``."""
    lines = []
    for p in PARTS:
        c = report.counts[p]
        lines.append(f"{p:<6} {c['videos']:>6} videos ({c['real']} real, {c['fake']} fake)")
    lines.append(f"{'dropped':<6} {report.counts['dropped']['videos']:>5} videos")
    lines += [f"LEAK: {line}" for line in report.failures]
    lines += [f"warning: {line}" for line in report.warnings]
    if not report.passed:
        verdict = "leaky: see LEAK lines"
    elif report.by == "identity":
        verdict = "clean: no identity in two parts"
    else:
        verdict = "clean: no shared videos or target identities"
    lines.append(f"{verdict} (split by {report.by or 'unknown'})")
    return "\n".join(lines)


def handle_check(args) -> int:
    split = load_split(args.split)
    report = check_split(split, load_dataset(args.data))
    print(json.dumps(report.to_dict()) if args.json else format_report(report))
    return 0 if report.passed else 1
