"""Training speed of the detector on the CPU: images per second of a full optimizer step
(forward, loss of thesis eq. 2.7, backward, Adam, StepLR) at batch 32, for the presets and
architectures, and the cost of the OT module: ours (memory bank of 1,024 features projected to
32 dimensions, warm-started refit every 10 steps) against solving semi-discrete OT on each
batch from scratch (the thesis' way: the 32 features of the batch, in their own dimension, cold
start, every step).

    python benchmarks/bench_train.py                       # quick preset, all rows
    python benchmarks/bench_train.py --presets quick,full  # adds Xception at 299 (slow on a CPU)
    python benchmarks/bench_train.py --presets xception128 # ours vs the reference way, side by side

``xception128`` is the thesis' network at the CPU-sized setting (Xception at 128 px, batch 32,
ACG with the OT module on, RECCE's decoder widths) trained two ways, their steps interleaved so
that both see the same machine load: the **reference** way (contiguous NCHW tensors, semi-discrete
OT solved on each batch from scratch, as the thesis describes it) and **ours** (channels-last
convolutions, the OT module with its memory bank and warm-started refits). Weights are random
(speed does not depend on them).

Images are random tensors of the preset's size (the data pipeline is not timed) with a fixed
half real / half fake labelling. Each row runs ``--warmup`` untimed steps, then ``--steps``
timed ones; the OT rows run enough steps to include several refits.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch

from acglab.train.distributed import Context
from acglab.train.presets import preset
from acglab.train.trainer import Trainer

#: the thesis' way: OT fitted on the batch alone, in the features' own dimension, every step
FROM_SCRATCH_OT = {"bank_size": 32, "warmup": 32, "refit_every": 1, "dim": None}


def batch(config, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(config.batch_size, 3, config.img_size, config.img_size, generator=g)
    labels = torch.arange(config.batch_size) % 2
    return images, labels


def time_steps(config, steps: int, warmup: int) -> dict:
    """Seconds per optimizer step (median over ``steps``) of a fresh trainer for ``config``."""
    return time_interleaved({"run": config}, steps, warmup)["run"]


def time_interleaved(configs: dict, steps: int, warmup: int) -> dict:
    """Seconds per optimizer step (median over ``steps``) of a fresh trainer for each config,
    one step of each in turn, so that all see the same machine load; images in channels-last
    layout when the config trains so, as the training loop feeds them."""
    trainers = {k: Trainer(c, Context(0, 1, 0, torch.device("cpu")), run_dir=None) for k, c in configs.items()}
    data = {k: batch(c) for k, c in configs.items()}
    times = {k: [] for k in configs}
    for i in range(warmup + steps):
        for k, trainer in trainers.items():
            images, labels = data[k]
            if configs[k].channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            t0 = time.perf_counter()
            trainer.step(images + 0.01 * i, labels)
            if i >= warmup:
                times[k].append(time.perf_counter() - t0)
    return {
        k: {
            "seconds_per_step": statistics.median(t),
            "mean_seconds_per_step": statistics.fmean(t),
            "images_per_second": configs[k].batch_size / statistics.fmean(t),
            "steps": steps,
        }
        for k, t in times.items()
    }


def xception128(steps: int, warmup: int) -> list[dict]:
    """The reference way against ours at Xception 128 px (module notes); prints the ratio."""
    base = preset("full", img_size=128, pretrained=False, arch="acg")
    configs = {
        "reference: NCHW, OT per batch from scratch": base.replace(
            channels_last=False, model_options={**base.model_options, "ot": FROM_SCRATCH_OT}
        ),
        "ours: channels-last, OT module (bank, warm refits)": base.replace(channels_last=True),
    }
    results = time_interleaved(configs, steps, warmup)
    rows = []
    for label, r in results.items():
        r.update(preset="xception128", arch=label, backbone=base.backbone, img_size=128)
        rows.append(r)
        print(
            f"xception128 {label:52s} {r['mean_seconds_per_step']:7.3f} s/step  {r['images_per_second']:6.1f} img/s",
            flush=True,
        )
    ref, ours = (r["images_per_second"] for r in rows)
    print(f"xception128 ratio ours / reference: {ours / ref:.2f}x", flush=True)
    return rows


def time_ot_module(feature_dim: int, options: dict, steps: int, batch_size: int = 32, seed: int = 0) -> dict:
    """Mean milliseconds per training step of the OT module alone on drifting mixture features."""
    from acglab.models.ot_module import OTFeatureModule

    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(8, feature_dim, generator=g) * 3
    module = OTFeatureModule(feature_dim, options).train()
    drift = torch.randn(feature_dim, generator=g) * 0.01
    times = []
    for i in range(steps):
        labels = torch.randint(0, 8, (batch_size,), generator=g)
        feats = torch.relu(centers[labels] + torch.randn(batch_size, feature_dim, generator=g) + i * drift)
        t0 = time.perf_counter()
        module(feats)
        times.append(time.perf_counter() - t0)
    warm = times[len(times) // 4 :]  # after the bank filled
    return {"ms_per_step": 1000 * statistics.fmean(warm), "steps": steps}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--presets", default="quick", help="comma list of quick,full,xception128")
    p.add_argument("--steps", type=int, default=20, help="timed steps per quick row")
    p.add_argument("--full-steps", type=int, default=2, help="timed steps per full row")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", default=None, help="write results here")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"# {platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads, CPU, batch 32")
    rows = []
    for name in args.presets.split(","):
        if name == "xception128":
            rows += xception128(max(args.full_steps, 12), max(args.warmup, 9))
            continue
        steps = args.steps if name == "quick" else args.full_steps
        warmup = args.warmup if name == "quick" else 1
        archs = [("backbone", {}), ("acg-no-ot", {}), ("acg", {}), ("acg, OT per batch from scratch", FROM_SCRATCH_OT)]
        if name == "full":
            archs = [archs[0], archs[2], archs[3]]
        for label, ot in archs:
            arch = label.split(",")[0]
            base = preset(name, pretrained=False)  # speed does not depend on the weights; no download
            options = dict(base.model_options)
            if ot:
                options["ot"] = ot
            # enough steps for several OT refits (every 10 steps after a warm-up of 256 features = 8 steps)
            n = max(steps, 30) if arch == "acg" and name == "quick" else steps
            w = max(warmup, 8) if arch == "acg" and name == "quick" else warmup
            config = base.replace(arch=arch, model_options=options)
            r = time_steps(config, n, w)
            r.update(preset=name, arch=label, backbone=config.backbone, img_size=config.img_size)
            rows.append(r)
            print(
                f"{name:5s} {label:32s} {config.backbone:22s} {config.img_size:3d}px "
                f"{r['mean_seconds_per_step']:7.3f} s/step  {r['images_per_second']:6.1f} img/s",
                flush=True,
            )
    ot_rows = []
    for dim in (112, 2048):  # bottlenecks of the quick preset (EfficientNet-Lite0 cut at stride 16) and of Xception
        ours = time_ot_module(dim, {}, steps=200)
        scratch = time_ot_module(dim, FROM_SCRATCH_OT, steps=40)
        ot_rows.append({"feature_dim": dim, "ours_ms": ours["ms_per_step"], "from_scratch_ms": scratch["ms_per_step"]})
        print(
            f"OT module, D={dim}: ours {ours['ms_per_step']:.1f} ms/step (amortised refits), per-batch from scratch "
            f"{scratch['ms_per_step']:.1f} ms/step, ratio {scratch['ms_per_step'] / ours['ms_per_step']:.1f}x",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"steps": rows, "ot_module": ot_rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
