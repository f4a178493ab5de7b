"""``acglab eval``: metrics of a checkpoint on a dataset, or on one part of a split.

Writes the metrics JSON (frame and video ACC, AUC, EER; checkpoint, config and data), the
per-frame scores CSV beside it (``<name>.scores.csv``) and, given ``--roc``, the ROC figure.
Without ``--split`` every sample is evaluated: that is cross-dataset evaluation when the model
was trained on another dataset.
"""

from __future__ import annotations

import sys
from pathlib import Path

from acglab.errors import AcglabError


def register(sub) -> None:
    p = sub.add_parser("eval", help="evaluate a checkpoint: ACC, AUC, EER at frame and video level")
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="checkpoint written by `acglab train`")
    p.add_argument("--data", required=True, metavar="DATA", help="dataset folder of face crops")
    p.add_argument("--split", metavar="SPLIT.json", help="split file; without it every sample is evaluated")
    p.add_argument("--part", choices=("train", "val", "test"), help="part of the split to evaluate (default test)")
    p.add_argument("--json", required=True, metavar="OUT.json", help="where to write the metrics")
    p.add_argument("--roc", metavar="ROC.html|png", help="also draw the ROC curves (PNG needs kaleido, else HTML)")
    p.add_argument("--device", default="auto", metavar="auto|cpu|cuda", help="where the model runs (default auto)")
    p.add_argument("--batch-size", type=int, default=32, metavar="N", help="images per batch (default 32)")
    p.add_argument("--num-workers", type=int, default=0, metavar="N", help="image loading processes (default 0)")
    p.add_argument(
        "--allow-leaky-split",
        action="store_true",
        help="evaluate even if the part shares videos or target identities with train/val",
    )
    p.set_defaults(func=handle_eval)


def _checkpoint_info(path, checkpoint: dict) -> dict:
    state = checkpoint.get("state") or {}
    info = {"path": str(path), "format": checkpoint.get("format")}
    for key in ("epoch", "step", "best_auc"):
        value = state.get(key)
        if isinstance(value, (int, float)):
            info[key] = value
    return info


def summary_line(report: dict, out) -> str:
    """``frames: ACC 0.912, AUC 0.953, EER 9.8% (1985); videos: ... (397) -> out``."""

    def level(name, n):
        m = report[name]
        auc = "n/a" if m["auc"] is None or m["auc"] != m["auc"] else f"{m['auc']:.3f}"
        eer = "n/a" if m["eer"] is None or m["eer"] != m["eer"] else f"{100 * m['eer']:.1f}%"
        return f"ACC {m['acc']:.3f}, AUC {auc}, EER {eer} ({n})"

    parts = [f"frames: {level('frame', report['n_frames'])}"]
    if report.get("video"):
        parts.append(f"videos: {level('video', report['n_videos'])}")
    return f"{'; '.join(parts)} -> {out}"


def handle_eval(args) -> int:
    from acglab.data import load_dataset, load_split
    from acglab.devices import resolve_device
    from acglab.eval.evaluate import check_output_paths, evaluate_model, one_class_note, select_part, write_report
    from acglab.eval.predict import require_frames
    from acglab.models.checkpoint import load_checkpoint, model_from_checkpoint

    if args.part is not None and args.split is None:
        raise AcglabError("--part needs --split; without a split every sample is evaluated")
    if args.batch_size < 1 or args.num_workers < 0:
        raise AcglabError("--batch-size must be at least 1 and --num-workers at least 0")
    check_output_paths(args.json, args.roc)
    device = resolve_device(args.device)
    part = args.part or "test"
    table = load_dataset(args.data)
    split = load_split(args.split) if args.split else None
    selected = select_part(table, split, part, allow_leaky=args.allow_leaky_split)
    require_frames(selected)
    note = one_class_note(selected)
    if note:
        print(f"acglab: note: {note}", file=sys.stderr)
    checkpoint = load_checkpoint(args.checkpoint, map_location="cpu")
    model = model_from_checkpoint(checkpoint, map_location="cpu")
    evaluation = evaluate_model(
        model,
        selected,
        batch_size=args.batch_size,
        device=device,
        num_workers=args.num_workers,
        progress=sys.stderr.isatty(),
    )
    info = {
        "checkpoint": _checkpoint_info(args.checkpoint, checkpoint),
        "config": getattr(model, "config", None),
        "data": {
            "root": str(Path(args.data)),
            "split": str(args.split) if args.split else None,
            "part": part if split is not None else "all",
            "summary": selected.summary(),
        },
        "device": str(device),
    }
    written = write_report(args.json, evaluation, info, roc_path=args.roc, name=Path(args.checkpoint).stem)
    roc = written["files"]["roc"]
    if args.roc and roc is not None and roc != str(args.roc):
        print(
            f"acglab: note: PNG export needs kaleido and a Chrome/Chromium browser; ROC written as {roc}",
            file=sys.stderr,
        )
    print(summary_line(evaluation.report, args.json))
    return 0
