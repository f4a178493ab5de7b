"""GPU benchmark of the full preset: training throughput and a short end-to-end run, one command.

    python benchmarks/bench_gpu.py --data ../shared/data/celebdf-mini --json gpu.json

1. **Throughput**: images per second of a training step (forward, loss of thesis eq. 2.7,
   backward, Adam) of the ``full`` preset (Xception at 299 px, batch 32) for the plain backbone
   and ACG, each in float32 with contiguous tensors, with mixed precision (float16 + GradScaler),
   and with mixed precision plus channels-last tensors (the preset's setting).
2. **End to end** (given ``--data``): a split by target identity, ``--train-steps`` optimizer steps
   of the full preset with validation, then frame and video metrics of the checkpoint on the test
   part; wall time and images per second of each phase.

Weights: ``--pretrained timm`` (default) takes timm's ImageNet Xception, falling back to random
weights with a note when the hub cannot be reached; ``none`` uses random weights. Runs on a CPU
too (``--device cpu``, slowly; with ``--backbone``/``--img-size`` to keep it small). With more
than one GPU, the printed ``torchrun`` line trains on all of them.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from acglab.devices import resolve_device
from acglab.errors import AcglabError, ModelConfigError
from acglab.train.distributed import Context
from acglab.train.presets import preset
from acglab.train.trainer import Trainer

MODES = {
    "fp32": dict(amp=False, channels_last=False),
    "amp": dict(amp=True, channels_last=False),
    "amp+channels_last": dict(amp=True, channels_last=True),
}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def throughput(config, device: torch.device, steps: int, warmup: int) -> dict:
    """Images per second of ``steps`` training steps after ``warmup`` untimed ones."""
    trainer = Trainer(config, Context(0, 1, 0, device), run_dir=None)
    g = torch.Generator().manual_seed(0)
    images = torch.randn(config.batch_size, 3, config.img_size, config.img_size, generator=g).to(device)
    labels = (torch.arange(config.batch_size) % 2).to(device)
    if config.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    times = []
    for i in range(warmup + steps):
        _sync(device)
        t0 = time.perf_counter()
        trainer.step(images, labels)
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    del trainer
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    return {
        "seconds_per_step": statistics.median(times),
        "images_per_second": config.batch_size / statistics.fmean(times),
        "peak_gib": peak,
    }


def base_config(args):
    config = preset(
        "full", pretrained=args.pretrained, batch_size=args.batch_size, backbone=args.backbone, img_size=args.img_size
    )
    if args.pretrained is True:
        from acglab.models.backbone import create_encoder

        try:  # fetch (and cache) once, so that the timed runs do not download
            create_encoder(config.backbone, True)
        except ModelConfigError as err:
            print(f"note: {err}; timing with random weights", flush=True)
            config = config.replace(pretrained=False)
    return config


def end_to_end(config, data, device: torch.device, train_steps: int, out: Path) -> dict:
    from acglab.data import load_dataset, make_split
    from acglab.eval.evaluate import evaluate_model
    from acglab.models.checkpoint import model_from_checkpoint
    from acglab.train import train

    table = load_dataset(data)
    split = make_split(table, by="target", seed=0)
    t0 = time.perf_counter()
    summary = train(
        config,
        table.subset(split.train),
        table.subset(split.val),
        out,
        device=device.type,
        max_steps=train_steps,
        progress=True,
        data_root=data,
    )
    t_train = time.perf_counter() - t0
    ckpt = out / ("best.pt" if (out / "best.pt").is_file() else "last.pt")
    model = model_from_checkpoint(ckpt, map_location=device)
    test = table.subset(split.test)
    t0 = time.perf_counter()
    report = evaluate_model(model, test, batch_size=config.batch_size, device=device, progress=True).report
    t_eval = time.perf_counter() - t0
    return {
        "steps": summary["steps"],
        "train_seconds": t_train,
        "train_images_per_second": summary["images_per_second"],
        "eval_seconds": t_eval,
        "eval_images_per_second": len(test) / t_eval,
        "test_frame_auc": report["frame"]["auc"],
        "test_video_auc": (report.get("video") or {}).get("auc"),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="dataset for the end-to-end run (skipped without it)")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cuda, cuda:N or cpu")
    p.add_argument("--pretrained", default="timm", choices=("timm", "none"))
    p.add_argument("--backbone", default=None, help="default: the full preset's legacy_xception")
    p.add_argument("--img-size", type=int, default=None, help="default: the full preset's 299")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--steps", type=int, default=20, help="timed steps per throughput row")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--train-steps", type=int, default=200, help="optimizer steps of the end-to-end run")
    p.add_argument("--modes", default=",".join(MODES), help=f"comma list of {', '.join(MODES)}")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    args.pretrained = args.pretrained == "timm"
    try:
        device = resolve_device(args.device)
        modes = args.modes.split(",")
        if unknown := [m for m in modes if m not in MODES]:
            raise AcglabError(f"unknown modes {unknown}; choose from {', '.join(MODES)}")
        base = base_config(args)
    except AcglabError as err:
        print(f"bench_gpu: error: {err}", file=sys.stderr)
        return 2
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
    print(
        f"# {name}, torch {torch.__version__}, {base.backbone} at {base.img_size} px, batch {base.batch_size}, "
        f"weights {'ImageNet (timm)' if base.pretrained else 'random'}",
        flush=True,
    )
    results = {
        "device": name,
        "torch": torch.__version__,
        "backbone": base.backbone,
        "img_size": base.img_size,
        "batch_size": base.batch_size,
        "throughput": [],
        "end_to_end": None,
    }
    for arch in ("backbone", "acg"):
        for mode in modes:
            if device.type == "cpu" and MODES[mode]["amp"]:
                continue  # float16 autocast is a CUDA path; the CPU's bfloat16 is not what is measured here
            r = throughput(base.replace(arch=arch, **MODES[mode]), device, args.steps, args.warmup)
            r.update(arch=arch, mode=mode)
            results["throughput"].append(r)
            mem = f", peak {r['peak_gib']:.1f} GiB" if r["peak_gib"] is not None else ""
            print(
                f"{arch:9s} {mode:18s} {r['seconds_per_step']:7.3f} s/step {r['images_per_second']:8.1f} img/s{mem}",
                flush=True,
            )
    if args.data:
        with tempfile.TemporaryDirectory(prefix="bench-gpu-") as tmp:
            e2e = end_to_end(base, args.data, device, args.train_steps, Path(tmp) / "run")
        results["end_to_end"] = e2e
        print(
            f"end to end: {e2e['steps']} steps in {e2e['train_seconds']:.0f} s ({e2e['train_images_per_second']:.1f} "
            f"img/s with validation), test in {e2e['eval_seconds']:.0f} s; test frame AUC {e2e['test_frame_auc']:.3f}, "
            f"video AUC {e2e['test_video_auc']:.3f}",
            flush=True,
        )
    if device.type == "cuda" and torch.cuda.device_count() > 1:
        print(
            f"{torch.cuda.device_count()} GPUs: torchrun --nproc_per_node={torch.cuda.device_count()} -m acglab.cli "
            f"train --data DATA --split SPLIT.json --preset full --out RUN_DIR",
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
