"""The analysis of a face image or a video by a trained detector: what ``acglab analyze``, the
analysis report and notebook 07's app show.

For an image (a face crop or a photo): the faces are detected (MTCNN in torch alone,
:mod:`acglab.faces.mtcnn`) and the largest is analysed (the others are counted and their boxes
listed); the face is cropped with the Celeb-DF framing, scored, and explained
(:func:`acglab.explain.explanation.explain_image`: Grad-CAM and the autoencoder's residual).
The probability is calibrated by the temperature the checkpoint
keeps from its validation part (:mod:`acglab.metrics.calibration`; checkpoints written before
calibration existed report the raw probability and say so). Given a reference map
(:mod:`acglab.app.reference`), the face is placed among reference real and fake faces and
its position relative to the OT map's singular set is measured.

For a video: ``frames`` frames evenly spaced over its length are decoded (OpenCV) and analysed
like images; the video's P(fake) is the mean calibrated P(fake) of the frames with a face, and
its verdict follows from it.

On the CPU the network runs as its TorchScript export (:mod:`acglab.app.export`), made at
the first analysis of a checkpoint and kept in the cache folder under the checkpoint's hash:
later analyses load it instead of
building the network, which needs timm (and, through it, torchvision), so that an analysis
from a cold start pays little more than importing torch. The export gives the detector's
numbers (it is checked against the detector when made); ``Analyzer(..., export=False)``
analyses with the detector itself.

Every user error (unreadable file, no face, a checkpoint of another kind) raises
:class:`acglab.errors.AcglabError` with one line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from acglab.data.manifest import file_sha256 as sha256_of
from acglab.errors import CheckpointError, ImageError

#: video file suffixes analysed frame by frame
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
#: photos are downscaled so that no side exceeds this (detection needs no more)
MAX_SIDE = 2048
#: frames analysed per video
VIDEO_FRAMES = 8
THRESHOLD = 0.5


@dataclass
class DetectorCard:
    """What a report says about the model: name, training data, checkpoint hash, calibration."""

    name: str
    checkpoint: str
    sha256: str
    config: dict
    train_config: dict
    data: dict
    epoch: int | None
    calibration: dict | None
    measured: dict = field(default_factory=dict)

    def summary(self) -> dict:
        return {
            "name": self.name,
            "checkpoint": self.checkpoint,
            "sha256": self.sha256,
            "epoch": self.epoch,
            "arch": self.config.get("arch"),
            "backbone": self.config.get("backbone"),
            "img_size": self.config.get("img_size"),
            "trained_on": self.data,
            "calibration": self.calibration,
            "measured": self.measured,
        }


def load_detector(path, device="cpu"):
    """``(model, card)`` of a detector checkpoint written by ``acglab train`` (weights only).

    Raises :class:`CheckpointError` for a missing or corrupt file, a pickle that would run code
    (refused by ``weights_only``) or a checkpoint of another kind (e.g. a latent model's).
    """
    from acglab.models.checkpoint import load_checkpoint, model_from_checkpoint

    path = Path(path)
    checkpoint = load_checkpoint(path, map_location="cpu")
    config = checkpoint.get("config") or {}
    if config.get("kind") == "latent" or "arch" not in config or "latent_dim" in config:
        raise CheckpointError(
            f"{path} is not a detector checkpoint (it holds {config.get('model') or 'another model'}); "
            "use one written by `acglab train`"
        )
    model = model_from_checkpoint(checkpoint, map_location="cpu").to(device).eval()
    return model, detector_card(path, sha256_of(path), config, checkpoint.get("state") or {})


#: what a detector card takes from a checkpoint's training state
CARD_STATE = ("data", "train_config", "epoch", "calibration")


def detector_card(path, sha256: str, config: dict, state: dict) -> DetectorCard:
    """The :class:`DetectorCard` of the checkpoint at ``path`` from its config and training
    state (:data:`CARD_STATE`); the training data is read from the run's ``config.json`` beside
    it when the state does not name it."""
    path = Path(path)
    data = dict(state.get("data") or {})
    run_config = path.parent / "config.json"
    if not data and run_config.is_file():
        import json

        try:
            data = dict(json.loads(run_config.read_text()).get("data") or {})
        except (ValueError, OSError):
            data = {}
    name = f"{config.get('arch', '?')} on {config.get('backbone', '?')}, {config.get('img_size', '?')} px"
    return DetectorCard(
        name=name,
        checkpoint=str(path),
        sha256=sha256,
        config=dict(config),
        train_config=dict(state.get("train_config") or {}),
        data=data,
        epoch=state.get("epoch"),
        calibration=state.get("calibration"),
    )


def _on_cpu(device) -> bool:
    return str(device).split(":")[0] == "cpu"


def load_exported(path):
    """``(exported detector, card)`` of the checkpoint at ``path`` from its cached export
    (:mod:`acglab.app.export`), or ``(None, None)`` when there is no usable one. Reads the
    checkpoint's bytes (for its hash) but builds no network."""
    from acglab.app.export import export_path, load_export

    path = Path(path)
    if not path.is_file():
        return None, None
    sha256 = sha256_of(path)
    exported = load_export(export_path(path, sha256), sha256)
    if exported is None:
        return None, None
    return exported, detector_card(path, sha256, exported.config, exported.meta.get("card") or {})


@dataclass
class FaceAnalysis:
    """One analysed face (module notes). ``explanation`` holds the face, Grad-CAM and residual."""

    source: str
    sha256: str | None
    explanation: object
    p_raw: float
    p_fake: float
    calibrated: bool
    verdict: str
    n_faces: int
    other_boxes: list
    placement: object | None = None
    frame: int | None = None
    seconds: dict = field(default_factory=dict)

    def summary(self) -> dict:
        e = self.explanation
        out = {
            "source": self.source,
            "sha256": self.sha256,
            "verdict": self.verdict,
            "p_fake": self.p_fake,
            "p_fake_uncalibrated": self.p_raw,
            "calibrated": self.calibrated,
            "threshold": THRESHOLD,
            "faces_found": self.n_faces,
            "face": {"box": list(e.face_box) if e.face_box else None, "score": e.face_score, "cropped": e.cropped},
            "other_faces": self.other_boxes,
            "gradcam_target": e.gradcam_target,
            "residual": e.residual is not None,
            "seconds": self.seconds,
        }
        if self.frame is not None:
            out["frame"] = self.frame
        if self.placement is not None:
            out["latent"] = self.placement.summary()
        return out


@dataclass
class VideoAnalysis:
    """A video's frames and its verdict (module notes)."""

    source: str
    sha256: str
    frames: list[FaceAnalysis]
    skipped: dict
    n_frames: int
    p_fake: float
    verdict: str

    def summary(self) -> dict:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "kind": "video",
            "verdict": self.verdict,
            "p_fake": self.p_fake,
            "frames_in_video": self.n_frames,
            "frames": [f.summary() for f in self.frames],
            "skipped_frames": self.skipped,
        }


def read_video_frames(path, count: int = VIDEO_FRAMES) -> tuple[list[tuple[int, np.ndarray]], int]:
    """``count`` RGB frames evenly spaced over the video (index, (H, W, 3) uint8), and its frame
    count. :class:`ImageError` when OpenCV cannot decode it."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise ImageError(f"video {path} cannot be decoded (unknown codec or corrupt file)")
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        wanted = np.unique(np.linspace(0, max(total - 1, 0), count).round().astype(int)) if total > 0 else None
        frames, index = [], 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if wanted is None or index in wanted:
                frames.append((index, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)))
            index += 1
            if wanted is not None and index > wanted[-1]:
                break
    finally:
        cap.release()
    if not frames:
        raise ImageError(f"video {path} cannot be decoded (no frame could be read)")
    if wanted is None:  # no frame count in the header: keep an even subsample of what was read
        keep = np.unique(np.linspace(0, len(frames) - 1, count).round().astype(int))
        frames = [frames[i] for i in keep]
    return frames, max(total, index)


class Analyzer:
    """A loaded detector that analyses images and videos (module notes).

    ``reference``: a :class:`~acglab.app.reference.ReferenceMap`, or ``None`` for no latent
    map; :meth:`with_reference` fits or loads one beside the checkpoint.

    ``export``: on the CPU, analyse with the checkpoint's TorchScript export (made and cached
    at first use; module notes). ``runner`` is what the analyses run (the export or the
    detector); ``model`` is the detector itself, built on first access.
    """

    def __init__(self, checkpoint, device="cpu", reference=None, export: bool = True):
        self.device = device
        self.reference = reference
        self._model = None
        exporting = export and _on_cpu(device)
        self.runner, self.card = load_exported(checkpoint) if exporting else (None, None)
        if self.runner is None:
            self._model, self.card = load_detector(checkpoint, device)
            self.runner = self._model
            exported = self._export() if exporting else None
            if exported is not None:
                self.runner = exported

    def _export(self):
        from acglab.app.export import export_detector, export_path

        card = self.card
        state = {key: getattr(card, key) for key in CARD_STATE}
        return export_detector(self._model, export_path(card.checkpoint, card.sha256), card.sha256, state)

    @property
    def model(self):
        """The detector (an ``nn.Module`` built from the checkpoint; timm is imported then)."""
        if self._model is None:
            self._model, _ = load_detector(self.card.checkpoint, self.device)
        return self._model

    @property
    def temperature(self) -> float | None:
        cal = self.card.calibration
        return float(cal["temperature"]) if cal and cal.get("temperature") else None

    def with_reference(self, data=None, progress: bool = False) -> Analyzer:
        """Load the reference map cached beside the checkpoint, or fit it on ``data`` (a dataset
        folder; default: :func:`acglab.data.default.default_data`) and cache it."""
        from acglab.app.reference import build_reference_map, load_or_none, reference_path, reference_table

        path = reference_path(self.card.checkpoint, self.card.sha256)
        self.reference = load_or_none(path, self.card.sha256)
        if self.reference is None:
            if data is None:
                from acglab.data.default import default_data

                data = default_data().path
            table = reference_table(data)
            self.reference = build_reference_map(
                self.model,
                table,
                progress=progress,
                info={"checkpoint_sha256": self.card.sha256, "data": str(data), "faces": len(table)},
            )
            self.reference.save(path)
        return self

    def analyze_face(
        self, image, source: str = "image", sha256: str | None = None, frame: int | None = None, edited: bool = False
    ) -> FaceAnalysis:
        """Analyse an (H, W, 3) uint8 image: the largest face, or the image itself when it is
        a face crop already (see :func:`acglab.explain.explanation.take_face`)."""
        import torch

        from acglab.explain.explanation import explain_image
        from acglab.faces import detect_faces
        from acglab.metrics.calibration import scaled_probability

        seconds = {}
        t = time.perf_counter()
        faces = detect_faces(image)
        seconds["detect"] = time.perf_counter() - t
        if not faces:
            raise ImageError(f"no face found in {source}")
        faces = sorted(faces, key=lambda f: f.area, reverse=True)
        t = time.perf_counter()
        with torch.enable_grad():
            expl = explain_image(image, self.runner, face_crop=None, device=self.device, what=source, faces=faces[:1])
        expl.gradcam_layer = getattr(self.runner, "gradcam_layer_name", expl.gradcam_layer)
        seconds["score_and_explain"] = time.perf_counter() - t
        t_scale = self.temperature
        p = float(scaled_probability(np.array([expl.logit]), t_scale)[0]) if t_scale else expl.p_fake
        placement = None
        if self.reference is not None and expl.features is not None:
            t = time.perf_counter()
            placement = self.reference.place(expl.features)
            seconds["latent"] = time.perf_counter() - t
        return FaceAnalysis(
            source=source,
            sha256=sha256,
            explanation=expl,
            p_raw=expl.p_fake,
            p_fake=p,
            calibrated=t_scale is not None,
            verdict="fake" if p >= THRESHOLD else "real",
            n_faces=len(faces),
            other_boxes=[[float(v) for v in f.box] for f in faces[1:]],
            placement=placement,
            frame=frame,
            seconds=seconds,
        )

    def analyze_file(self, path, frames: int = VIDEO_FRAMES):
        """A :class:`FaceAnalysis` of an image file or a :class:`VideoAnalysis` of a video file."""
        from acglab.data.images import load_image

        path = Path(path)
        if not path.is_file():
            raise ImageError(f"{path} does not exist or is not a file")
        digest = sha256_of(path)
        if path.suffix.lower() in VIDEO_SUFFIXES:
            return self.analyze_video(path, digest, frames)
        image = load_image(path, max_side=MAX_SIDE)
        return self.analyze_face(image, str(path), digest)

    def analyze_video(self, path, digest: str, frames: int = VIDEO_FRAMES) -> VideoAnalysis:
        picked, total = read_video_frames(path, frames)
        results, skipped = [], {}
        for index, image in picked:
            try:
                results.append(self.analyze_face(image, f"{path} frame {index}", digest, frame=index))
            except ImageError as err:
                skipped[index] = str(err)
        if not results:
            raise ImageError(f"no face found in any of the {len(picked)} frames analysed of {path}")
        p = float(np.mean([r.p_fake for r in results]))
        return VideoAnalysis(
            source=str(path),
            sha256=digest,
            frames=results,
            skipped=skipped,
            n_frames=total,
            p_fake=p,
            verdict="fake" if p >= THRESHOLD else "real",
        )
