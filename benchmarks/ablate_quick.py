"""Ablation of the quick training preset: variants x seeds on one split, test scores every epoch.

    python benchmarks/ablate_quick.py --data ../shared/data/celebdf-mini --split split.json \
        --out runs/ablation --variants lite0-cut,lite0-whole --seeds 0,1,2 --threads 1

Each (variant, seed) trains with ``acglab.train.train`` into ``OUT/VARIANT/seedS`` (an existing
finished run is reused; an interrupted one resumes) and, after every epoch, scores the test part
(video AUC, frame AUC, per-video scores kept in ``test_by_epoch.json``), so that any rule of
choosing the checkpoint (best validation video or frame AUC, smoothed validation, a fixed epoch)
can be compared afterwards against the test score it picks. ``--report`` prints, per variant,
the mean test video AUC of the best-validation checkpoint over seeds with a bootstrap interval
over test videos, and the paired interval of each variant against ``--reference``.

    python benchmarks/ablate_quick.py --out runs/ablation --variants V1,V2 --export \
        --stored benchmarks/results/quick_ablation.json

adds the finished runs' validation AUCs and per-video test scores of every epoch to a small JSON
file kept with the project, so the tables (``--report --stored FILE``) and notebook 05's
interval figure (:func:`acglab.eval.ablation.stored_ablation`) can be recomputed without the run
folders.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from acglab.eval.ablation import CHECKPOINT_RULES as RULES

#: variants: changes to the quick preset (``TrainConfig.replace`` keywords)
#: the thesis' ACG settings, which the quick preset changes (input noise, label-free OT mixing)
THESIS_ACG = {"noise_prob": 0.5, "ot": {"same_class": False}}
THESIS_ACG_NO_OT = {"noise_prob": 0.5}
VARIANTS: dict[str, dict] = {
    # the first rounds of the ablation, with the thesis' input noise and label-free mixing
    "lite0-cut": {"model_options": THESIS_ACG},
    "lite0-whole": {"model_options": {**THESIS_ACG, "max_stride": None}},
    "lite0-cut-lr": {"lr": 1e-3, "backbone_lr": 2e-4, "model_options": THESIS_ACG},
    "lite0-cut-blr": {"backbone_lr": 1e-4, "model_options": THESIS_ACG},
    "lite0-cut-160": {"img_size": 160, "model_options": THESIS_ACG},
    "tf-lite0-cut": {"backbone": "tf_efficientnet_lite0", "model_options": THESIS_ACG},
    "lite1-cut": {"backbone": "efficientnet_lite1", "pretrained": "imagenet-lite1", "model_options": THESIS_ACG},
    "lite2-cut": {"backbone": "efficientnet_lite2", "pretrained": "imagenet-lite2", "model_options": THESIS_ACG},
    "lite0-cut-crop": {"img_size": 144, "crop_size": 128, "model_options": THESIS_ACG},
    "acg-same-class": {"model_options": {"noise_prob": 0.5}},
    "acg-no-noise": {"model_options": {"ot": {"same_class": False}}},
    "acg-no-ot": {"arch": "acg-no-ot", "model_options": THESIS_ACG_NO_OT},
    # the second round: no input noise, same-class mixing on the bottleneck
    "acg-same-class-no-noise": {"model_options": {"ot": {"same_class": True}}},
    "acg-no-ot-no-noise": {"arch": "acg-no-ot"},
    "acg-extra-points": {"model_options": {"ot": {"same_class": True, "extra_points": 32}}},
    "acg-crop": {"img_size": 144, "crop_size": 128, "model_options": {"ot": {"same_class": True}}},
    "acg-sbi": {"synth_augment": True, "model_options": {"ot": {"same_class": True}}},
    "acg-sbi68": {"synth_augment": True, "landmark_points": 68, "model_options": {"ot": {"same_class": True}}},
    # the preset as it is now: no input noise, same-class mixing in the metric loss's space
    "acg-ot-metric": {},
    # the fourth round: the learning rate, its schedule and a weight average
    "acg-cosine": {"lr_schedule": "cosine"},
    "acg-ema": {"ema_decay": 0.99},
    "acg-lr4": {"lr": 4e-4},
    "acg-lr4-ema": {"lr": 4e-4, "ema_decay": 0.99},
    "acg-ot-metric-sbi68": {"synth_augment": True, "landmark_points": 68},
    "acg-ot-metric-sbi68-parts": {
        "synth_augment": True,
        "landmark_points": 68,
        "synth_parts": ["eyes", "nose", "mouth"],
    },
    "acg-no-ot-sbi68": {"arch": "acg-no-ot", "synth_augment": True, "landmark_points": 68},
    "backbone": {"arch": "backbone"},
    "backbone-sbi68": {"arch": "backbone", "synth_augment": True, "landmark_points": 68},
    "backbone-sbi68-ema": {"arch": "backbone", "synth_augment": True, "landmark_points": 68, "ema_decay": 0.99},
    "acg-no-ot-sbi68-ema": {"arch": "acg-no-ot", "synth_augment": True, "landmark_points": 68, "ema_decay": 0.99},
    "backbone-ema": {"arch": "backbone", "ema_decay": 0.99},
    "scratch": {"__preset__": "quick-scratch"},
}
#: the quick preset's optimiser until the fourth round, under every variant above
STEP_2E4 = {"lr": 2e-4, "lr_schedule": "step", "step_size": 300}
#: variants of the quick preset as it is now (Adam 6e-4 along a cosine)
CURRENT: dict[str, dict] = {
    "acg-lr4-cosine": {"lr": 4e-4},
    "acg-lr6-cosine": {},
    "acg-lr8-cosine": {"lr": 8e-4},
    "backbone-lr6-cosine": {"arch": "backbone"},
    "acg-no-ot-lr6-cosine": {"arch": "acg-no-ot"},
}


def variant_config(name: str, seed: int, epochs: int | None):
    from acglab.train.presets import preset

    changes = dict(CURRENT[name]) if name in CURRENT else {**STEP_2E4, **VARIANTS[name]}
    base = changes.pop("__preset__", "quick")
    config = preset(base)
    if "model_options" in changes:
        changes["model_options"] = {**config.model_options, **changes["model_options"]}
    return config.replace(**changes, seed=seed, epochs=epochs)


def run_one(name, seed, args, train_t, val_t, test_t):
    import torch

    from acglab.data.selection import select_frames
    from acglab.eval.evaluate import evaluate_model
    from acglab.train import train

    config = variant_config(name, seed, args.epochs)
    run_dir = Path(args.out) / name / f"seed{seed}"
    record = run_dir / "test_by_epoch.json"
    if (run_dir / "summary.json").is_file() and record.is_file():
        summary = json.loads((run_dir / "summary.json").read_text())
        if summary.get("finished"):
            return
    epochs = json.loads(record.read_text()) if record.is_file() else []
    per_epoch = max(1, len(select_frames(train_t, config.frames_per_video)) // config.batch_size)

    def on_step(step, model):
        if step % per_epoch:
            return
        was = model.training
        ev = evaluate_model(model, test_t, batch_size=64, device="cpu", progress=False)
        model.train(was)
        table = ev.table
        videos = [s.video for s in table]
        by_video = {}
        for v, s, y in zip(videos, ev.scores, table.labels):
            by_video.setdefault(v, [[], int(y)])[0].append(float(s))
        epochs.append(
            {
                "epoch": step // per_epoch,
                "step": step,
                "video_auc": float(ev.report["video"]["auc"]),
                "frame_auc": float(ev.report["frame"]["auc"]),
                "video_scores": {v: [sum(s) / len(s), y] for v, (s, y) in by_video.items()},
            }
        )
        tmp = record.with_suffix(".tmp")
        tmp.write_text(json.dumps(epochs))
        os.replace(tmp, record)

    run_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    summary = train(
        config,
        train_t,
        val_t,
        run_dir,
        resume=(run_dir / "last.pt").is_file(),
        device="cpu",
        data_root=args.data,
        progress=False,
        on_step=on_step,
    )
    print(f"{name} seed {seed}: {time.perf_counter() - t0:.0f} s, best {summary['best']}", flush=True)


def _read_run(run_dir: Path):
    """Per-epoch validation rows (log.csv) and test records of one finished run, or None."""
    import csv

    record, log = run_dir / "test_by_epoch.json", run_dir / "log.csv"
    if not (record.is_file() and log.is_file()):
        return None
    rows = {int(r["epoch"]): r for r in csv.DictReader(log.open())}
    tests = {r["epoch"]: r for r in json.loads(record.read_text())}
    epochs = sorted(set(rows) & set(tests))
    return [(e, float(rows[e]["val_video_auc"]), float(rows[e]["val_frame_auc"]), tests[e]) for e in epochs]


def choose(run, rule: str):
    """The epoch record ``rule`` picks (:func:`acglab.eval.ablation.choose_epoch`)."""
    from acglab.eval.ablation import choose_epoch

    return choose_epoch(run, rule)


def _scores(test_record, videos):
    return [test_record["video_scores"][v][0] for v in videos]


def finished_runs(out: Path, variants: list[str], stored: Path | None = None) -> dict:
    """``{variant: {"seedS": run}}`` of the finished runs below ``out``, after those of the
    ``stored`` scores file (:func:`export`); a run folder wins over a stored copy."""
    from acglab.eval.stored_scores import read_stored_scores

    runs = {}
    if stored is not None and stored.is_file():
        saved = read_stored_scores(stored)
        for name in variants:
            if name in saved:
                runs[name] = {seed: [tuple(r) for r in run] for seed, run in saved[name].items()}
    for name in variants:
        seeds = sorted((out / name).glob("seed*"))
        found = {d.name: r for d in seeds if (r := _read_run(d))}
        if found:
            runs[name] = {**runs.get(name, {}), **found}
    return runs


def export(out: Path, variants: list[str], path: Path) -> None:
    """Write the finished runs' validation AUCs and per-video test scores of every epoch to
    ``path`` (:mod:`acglab.eval.stored_scores`), merged into what the file already holds, so the
    tables can be recomputed without the run folders (``--report --stored path``)."""
    from acglab.eval.stored_scores import read_stored_scores, write_stored_scores

    saved = read_stored_scores(path) if path.is_file() else {}
    for name, found in finished_runs(out, variants).items():
        for seed, run in found.items():
            summary = out / name / seed / "summary.json"
            if summary.is_file() and json.loads(summary.read_text()).get("finished"):  # else still training
                saved.setdefault(name, {})[seed] = [list(r) for r in run]
    write_stored_scores(path, saved)
    print(f"wrote {path}: " + ", ".join(f"{k} ({len(v)} seeds)" for k, v in sorted(saved.items())))


def report(out: Path, variants: list[str], reference: str | None, stored: Path | None = None) -> None:
    """Per variant: the test video AUC each checkpoint rule picks (mean over seeds, bootstrap
    interval over test videos) and the paired interval against ``reference``."""
    import numpy as np

    from acglab.metrics.bootstrap import auc_interval, paired_auc_interval

    runs = finished_runs(out, variants, stored)
    if not runs:
        print("no finished runs")
        return
    any_run = next(iter(next(iter(runs.values())).values()))
    videos = sorted(any_run[0][3]["video_scores"])
    labels = np.array([any_run[0][3]["video_scores"][v][1] for v in videos])
    for rule in RULES:
        print(f"\n## checkpoint chosen by {rule}")
        print(
            "| variant | seeds | epochs | test video AUC per seed | mean [95% CI] | paired vs "
            + (reference or "-")
            + " |"
        )
        print("|---|---|---|---|---|---|")
        picked = {}
        for name, found in runs.items():
            recs = {seed: choose(run, rule) for seed, run in found.items()}
            picked[name] = recs
            scores = np.array([_scores(r[3], videos) for r in recs.values()])
            ci = auc_interval(labels, scores)
            paired = "-"
            if reference in picked and name != reference:
                common = sorted(set(recs) & set(picked[reference]))
                if common:
                    a = np.array([_scores(recs[s][3], videos) for s in common])
                    b = np.array([_scores(picked[reference][s][3], videos) for s in common])
                    paired = f"{paired_auc_interval(labels, a, b)} ({len(common)} seeds)"
            per_seed = ", ".join(f"{r[3]['video_auc']:.3f} (ep {r[0]})" for r in recs.values())
            print(f"| {name} | {len(recs)} | {len(next(iter(found.values())))} | {per_seed} | {ci} | {paired} |")
    print("\n## how validation tracks test (Spearman over epochs, mean over runs)")
    from scipy.stats import spearmanr

    for name, found in runs.items():
        rho_v, rho_f = [], []
        for run in found.values():
            t = [r[3]["video_auc"] for r in run]
            if len(run) > 2:
                rho_v.append(spearmanr([r[1] for r in run], t).statistic)
                rho_f.append(spearmanr([r[2] for r in run], t).statistic)
        if rho_v:
            print(f"{name}: val video AUC {np.nanmean(rho_v):+.2f}, val frame AUC {np.nanmean(rho_f):+.2f}")


def load(args):
    from acglab.data import load_dataset, load_split

    table = load_dataset(args.data)
    split = load_split(args.split)
    return table.subset(split.train), table.subset(split.val), table.subset(split.test)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data")
    p.add_argument("--split")
    p.add_argument("--out", required=True)
    p.add_argument("--variants", default="lite0-cut")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--report", action="store_true", help="print the tables of the finished runs; train nothing")
    p.add_argument("--reference", default=None, help="variant the paired intervals compare against")
    p.add_argument("--stored", default=None, help="scores file of earlier runs (--report reads it, --export writes it)")
    p.add_argument("--export", action="store_true", help="add the finished runs' scores to --stored; train nothing")
    args = p.parse_args(argv)
    stored = Path(args.stored) if args.stored else None
    if args.export:
        if stored is None:
            p.error("--export needs --stored FILE")
        export(Path(args.out), args.variants.split(","), stored)
        return 0
    if args.report:
        report(Path(args.out), args.variants.split(","), args.reference, stored)
        return 0
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    unknown = [v for v in args.variants.split(",") if v not in VARIANTS and v not in CURRENT]
    if unknown:
        p.error(f"unknown variants {unknown}; known: {', '.join([*VARIANTS, *CURRENT])}")
    train_t, val_t, test_t = load(args)
    for name in args.variants.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            run_one(name, seed, args, train_t, val_t, test_t)
    return 0


if __name__ == "__main__":
    sys.exit(main())
