"""Face extraction: from videos (or full frames) in a dataset folder to a folder of face crops.

Input (``ROOT``) and output (``OUT``) layouts
---------------------------------------------
- Celeb-DF v2: ``ROOT/{Celeb-real,Celeb-synthesis,YouTube-real}/`` holding ``<video>.mp4`` or
  frames ``<video>_<k>.jpg`` (or ``<video>/<k>.jpg``); a folder with ``frames/<category>/`` (such
  as ``celebdf-mini``) is read from its full frames. Crops go to
  ``OUT/<category>/<video>_<k>.jpg`` with ``k = 000 ... N-1`` (the layout of the published crops),
  and ``List_of_testing_videos.txt`` is copied, so ``OUT`` loads as a Celeb-DF frames layout.
- Generic: ``ROOT/real/`` and ``ROOT/fake/`` (optionally under ``train/ val/ test/``). Crops go
  to ``OUT/<category>/<video>/<k>.jpg``: one folder per video, so that ``OUT`` loads with the
  same video ids (flat files there would each count as a video of their own).

For each video, ``N`` evenly spaced frames are taken (:func:`acglab.data.video.sample_frame_indices`
over the video's frames, or over its extracted frame files), the best-scoring face is detected
(:func:`acglab.faces.find_face`) and cropped with a margin (:func:`acglab.faces.crop_face`);
crop ``k`` is the ``k``-th frame taken. Every file is written atomically.

Frames without a face, undecodable videos and corrupt images are skipped, counted and listed
with the reason in ``OUT/skipped.json``; re-running skips videos whose crops all exist and
fills in missing ones.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from acglab.data.images import load_image, save_image
from acglab.data.layouts import detect_layout, load_dataset
from acglab.data.layouts.celebdf import CATEGORY_LABELS
from acglab.data.samples import Sample
from acglab.data.video import read_frames, sample_frame_indices
from acglab.errors import DataLayoutError, ImageError, NoFaceError
from acglab.fileio import copy_atomic, write_text_atomic

log = logging.getLogger(__name__)

SUPPORTED_LAYOUTS = ("celebdf", "generic")
LIST_NAME = "List_of_testing_videos.txt"
SKIPPED_NAME = "skipped.json"
#: reasons an item is skipped, as written to ``skipped.json``
NO_FACE, UNDECODABLE_VIDEO, CORRUPT_IMAGE = "no-face", "undecodable-video", "corrupt-image"


@dataclass(frozen=True)
class VideoSource:
    """One video to extract: a video file, or its extracted frame files in frame order."""

    video: str
    category: str
    video_path: str | None = None
    frame_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skip:
    """An item not extracted: ``frame`` is the crop index ``k`` (None for a whole video)."""

    video: str
    path: str
    frame: int | None
    reason: str
    message: str


@dataclass
class ExtractSummary:
    """What a run did: videos seen, crops written or already present, items skipped."""

    out: str
    videos: int = 0
    videos_complete_before: int = 0
    frames_written: int = 0
    frames_present: int = 0
    skipped: list[Skip] = field(default_factory=list)

    def reason_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(s.reason for s in self.skipped).items()))

    def line(self) -> str:
        """One-line summary printed by ``acglab data extract``."""
        reasons = ", ".join(f"{n} {r}" for r, n in self.reason_counts().items())
        skipped = (
            f"skipped {len(self.skipped)} ({reasons}; see {Path(self.out) / SKIPPED_NAME})"
            if self.skipped
            else "skipped 0"
        )
        return (
            f"{self.videos} videos: {self.frames_written} face crops written to {self.out}, "
            f"{self.frames_present} already present ({self.videos_complete_before} videos complete); {skipped}"
        )


def input_root(root: Path) -> Path:
    """The folder to index: ``root/frames`` when it holds Celeb-DF category folders, else ``root``."""
    frames = root / "frames"
    if any((frames / c).is_dir() for c in CATEGORY_LABELS):
        return frames
    return root


def find_sources(root) -> tuple[str, list[VideoSource]]:
    """``(layout name, videos)`` of a Celeb-DF or real/fake folder (files listed, not opened).

    Raises :class:`DataLayoutError` for a missing folder, an unknown or unsupported layout.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataLayoutError(
            f"dataset folder {root} does not exist" if not root.exists() else f"{root} is not a folder"
        )
    base = input_root(root)
    layout = detect_layout(base)
    if layout not in SUPPORTED_LAYOUTS:
        raise DataLayoutError(
            f"{root} has the {layout} layout; extract reads Celeb-DF (Celeb-real/, Celeb-synthesis/, "
            "YouTube-real/) or real/ + fake/ folders"
        )
    by_video: dict[str, list[Sample]] = defaultdict(list)
    for s in load_dataset(base):
        by_video[s.video].append(s)
    sources = []
    for video, samples in by_video.items():
        if samples[0].frame is None:
            sources.append(VideoSource(video, samples[0].category, video_path=samples[0].path))
        else:
            ordered = sorted(samples, key=lambda s: (s.frame, s.path))
            sources.append(VideoSource(video, samples[0].category, frame_paths=tuple(s.path for s in ordered)))
    return layout, sources


def crop_path(out: Path, layout: str, video: str, k: int) -> Path:
    """Where crop ``k`` of ``video`` goes (see the module docstring)."""
    if layout == "celebdf":
        return out / f"{video}_{k:03d}.jpg"
    return out / video / f"{k:03d}.jpg"


def _frames_of(source: VideoSource, n: int, summary: ExtractSummary):
    """``[(k, image or None, path)]`` for the ``n`` frames taken from ``source``; bad ones recorded."""
    if source.video_path is not None:
        try:
            return [(k, image, source.video_path) for k, (_, image) in enumerate(read_frames(source.video_path, n))]
        except ImageError as err:
            summary.skipped.append(Skip(source.video, source.video_path, None, UNDECODABLE_VIDEO, str(err)))
            return []
    picked = [source.frame_paths[i] for i in sample_frame_indices(len(source.frame_paths), n)]
    return [(k, None, path) for k, path in enumerate(picked)]


def extract_faces(
    root,
    out,
    frames: int = 5,
    margin=None,
    size=None,
    *,
    device: str = "cpu",
    choose: str = "best",
    min_face_size: int | None = None,
    progress: bool = True,
) -> ExtractSummary:
    """Detect, crop and save the faces of ``frames`` evenly spaced frames of every video.

    Parameters
    ----------
    root : path
        A Celeb-DF v2 or real/fake folder of videos or frames (module docstring).
    out : path
        Output folder, created if needed; must not be ``root`` itself.
    frames : int
        Frames (crops) per video, ``N``.
    margin : number, pair or four numbers, optional
        Crop margin (:data:`acglab.faces.DEFAULT_MARGIN` by default).
    size : None, int or (width, height)
        Resize crops to it; ``None`` keeps the native resolution as the published crops do.
    device, choose, min_face_size
        Detector device, which face to keep (``"best"`` or ``"largest"``) and smallest face side
        (:data:`acglab.faces.FRAME_MIN_FACE_SIZE` by default).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    ExtractSummary
        Counts of videos and crops, and the skipped items (also written to ``OUT/skipped.json``).
    """
    from acglab.faces import DEFAULT_MARGIN, FRAME_MIN_FACE_SIZE, crop_face, detector, find_face, side_margins

    if int(frames) <= 0:
        raise ValueError(f"frames must be positive, got {frames}")
    margin = DEFAULT_MARGIN if margin is None else margin
    min_face_size = FRAME_MIN_FACE_SIZE if min_face_size is None else int(min_face_size)
    root, out = Path(root).expanduser(), Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise DataLayoutError(f"output {out} exists and is not a folder; give a folder for the face crops")
    if root.is_dir() and out.resolve() == root.resolve():
        raise DataLayoutError(f"output folder {out} is the dataset folder itself; give another --out")
    side_margins(margin)  # a bad margin fails here, before anything is written
    layout, sources = find_sources(root)
    detector(device, min_face_size)  # an unusable device fails here, before anything is written

    out.mkdir(parents=True, exist_ok=True)
    listing = root / LIST_NAME
    if listing.is_file():
        copy_atomic(listing, out / LIST_NAME)
    summary = ExtractSummary(out=str(out), videos=len(sources))
    bar = tqdm(sources, desc="extract faces", unit="video", disable=not progress)
    for source in bar:
        targets = {k: crop_path(out, layout, source.video, k) for k in range(int(frames))}
        present = {k for k, p in targets.items() if p.is_file()}
        if len(present) == len(targets):
            summary.videos_complete_before += 1
            summary.frames_present += len(present)
            continue
        for k, image, path in _frames_of(source, int(frames), summary):
            if k in present:
                summary.frames_present += 1
                continue
            try:
                image = load_image(path) if image is None else image
                face = find_face(
                    image,
                    choose=choose,
                    what=f"{path} (frame {k} of {source.video})",
                    device=device,
                    min_face_size=min_face_size,
                )
                save_image(targets[k], crop_face(image, face, margin=margin, size=size))
                summary.frames_written += 1
            except NoFaceError as err:
                summary.skipped.append(Skip(source.video, path, k, NO_FACE, str(err)))
            except ImageError as err:
                summary.skipped.append(Skip(source.video, path, k, CORRUPT_IMAGE, str(err)))
        bar.set_postfix(written=summary.frames_written, skipped=len(summary.skipped), refresh=False)
    write_text_atomic(out / SKIPPED_NAME, json.dumps([asdict(s) for s in summary.skipped], indent=1) + "\n")
    if summary.skipped:
        log.warning(
            "skipped %d items: %s (listed in %s)", len(summary.skipped), summary.reason_counts(), out / SKIPPED_NAME
        )
    return summary
