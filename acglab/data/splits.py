"""Honest train/val/test splits of a :class:`SampleTable`, split files, and the leakage check.

Kinds of split (``by``):

- ``"target"``: videos grouped by their target identity (the person whose scene and head a video
  shows): Celeb-DF's real ``idA_*`` and fakes ``idA_*_*`` stay together, every YouTube-real video
  is its own group; nothing is dropped. A source identity (the pasted face) may still appear on
  two sides; :func:`check_split` reports it as a warning.
- ``"identity"``: strict. Identities are assigned to parts and a video is kept in a part only if
  all its identities are there; the others are dropped (listed under ``"dropped"``). The
  assignment is searched to drop few videos (:mod:`acglab.data.split_assignment`).
- ``"video"``: every video its own group (no identity guarantee; datasets without identities).
- ``"official"``: the dataset's published partition (Celeb-DF's test list, FaceForensics++'s
  JSONs, WildDeepfake's folders); a validation part is carved from train by target group.

Group splits are stratified by label: each part holds about its fraction of the real and of
the fake videos. All splits are deterministic given ``seed``.

A split file is JSON: ``{"train": [...], "val": [...], "test": [...], "dropped": [...],
"meta": {...}}`` of video ids (``"dropped"`` only when any).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from acglab.data.layouts import official_partition
from acglab.data.samples import REAL, Sample, SampleTable
from acglab.data.split_assignment import DEFAULT_TOLERANCE, build_problem, kept_part, search_assignment
from acglab.errors import SplitError, SplitLeakageError
from acglab.fileio import write_text_atomic

PARTS = ("train", "val", "test")
SPLIT_KINDS = ("target", "identity", "video", "official")
PAIRS = (("train", "val"), ("train", "test"), ("val", "test"))
SHOWN_NAMES = 5
GROUP_SEARCH = {"restarts": 2, "perturbations": 3}

log = logging.getLogger(__name__)


@dataclass
class Split:
    """Video ids of each part, the dropped videos, and how the split was made (``meta``)."""

    train: list[str] = field(default_factory=list)
    val: list[str] = field(default_factory=list)
    test: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    @property
    def parts(self) -> dict[str, list[str]]:
        """``{"train": [...], "val": [...], "test": [...]}``."""
        return {p: getattr(self, p) for p in PARTS}

    def to_dict(self) -> dict:
        data: dict = dict(self.parts)
        if self.dropped:
            data["dropped"] = list(self.dropped)
        data["meta"] = self.meta
        return data

    @classmethod
    def from_dict(cls, data, source: str = "split") -> Split:
        """A :class:`Split` from parsed JSON; :class:`SplitError` naming what is malformed."""
        if not isinstance(data, dict):
            raise SplitError(f"{source} is not a JSON object with train/val/test lists")
        unknown = sorted(set(data) - {*PARTS, "dropped", "meta"})
        if unknown or not any(p in data for p in PARTS):
            what = f"unknown keys {', '.join(unknown)}" if unknown else "no train/val/test lists"
            raise SplitError(f"{source} has {what}; expected train, val, test, dropped, meta")
        lists = {}
        for key in (*PARTS, "dropped"):
            value = data.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SplitError(f"{source}: {key!r} must be a list of video ids (strings)")
            lists[key] = value
        meta = data.get("meta", {})
        if not isinstance(meta, dict):
            raise SplitError(f"{source}: 'meta' must be an object")
        return cls(**lists, meta=meta)


def part_fractions(test_fraction: float, val_fraction: float) -> dict[str, float]:
    """``{"train": 1 - test - val, "val": val, "test": test}``; :class:`SplitError` if out of range."""
    for name, f in (("test fraction", test_fraction), ("val fraction", val_fraction)):
        if not 0.0 <= f < 1.0:
            raise SplitError(f"{name} must be in [0, 1), got {f}")
    train = 1.0 - test_fraction - val_fraction
    if train <= 0.0:
        raise SplitError(f"test fraction + val fraction must be below 1, got {test_fraction + val_fraction:g}")
    return {"train": train, "val": val_fraction, "test": test_fraction}


def label_counts(videos, table: SampleTable) -> dict[str, int]:
    """``{"real": n, "fake": m}`` among ``videos``."""
    labels = table.video_labels()
    real = sum(1 for v in videos if labels[v] == REAL)
    return {"real": real, "fake": len(videos) - real}


def _finish(table: SampleTable, part_of: dict[str, str], meta: dict) -> Split:
    """A :class:`Split` in table order from ``{video: part or "dropped"}``, with counts in ``meta``."""
    split = Split(meta=meta)
    for v in table.videos:
        getattr(split, part_of.get(v, "dropped")).append(v)
    meta["dataset"] = table.summary()["dataset"]
    meta["counts"] = {p: label_counts(split.parts[p], table) for p in PARTS}
    meta["counts"]["dropped"] = len(split.dropped)
    return split


def _assign(
    table: SampleTable,
    units_of_video: dict[str, tuple[str, ...]],
    fractions: dict[str, float],
    seed: int,
    tolerance: float,
    progress: bool,
) -> dict[str, str]:
    """``{video: part}`` of the kept videos, by the search of :mod:`acglab.data.split_assignment`."""
    names = [p for p in PARTS if fractions[p] > 0]
    problem, items, _ = build_problem(units_of_video, table.video_labels(), [fractions[p] for p in names], tolerance)
    # one unit per video: nothing can be dropped and balancing needs little search
    effort = GROUP_SEARCH if all(len(u) == 1 for u in problem.item_units) else {}
    assignment = search_assignment(problem, seed=seed, progress=progress, **effort)
    part_of = {}
    for videos, units in zip(items, problem.item_units):
        p = kept_part(units, assignment)
        if p >= 0:
            part_of.update({v: names[p] for v in videos})
    return part_of


def split_by_group(
    table: SampleTable,
    group_of: Callable[[Sample], str] | None = None,
    test_fraction: float = 0.2,
    val_fraction: float = 0.1,
    seed: int = 0,
    by: str = "group",
    tolerance: float = DEFAULT_TOLERANCE,
    progress: bool = False,
) -> Split:
    """A label-stratified split that keeps every group on one side; nothing is dropped.

    Parameters
    ----------
    table : the samples; a video's group is ``group_of`` of its first sample
    group_of : sample -> group name (default: its video id, i.e. a video-level split)
    test_fraction, val_fraction : wanted fraction of the real and of the fake videos per part
    seed : the split is deterministic given it
    by : the name recorded in ``meta["by"]``
    tolerance : allowed deviation of each part's fraction of each label, where groups allow
    """
    fractions = part_fractions(test_fraction, val_fraction)
    group_of = group_of or (lambda s: s.video)
    first = {s.video: s for s in reversed(table.samples)}
    units = {v: (group_of(first[v]),) for v in table.videos}
    part_of = _assign(table, units, fractions, seed, tolerance, progress)
    return _finish(table, part_of, {"by": by, "seed": seed, "fractions": fractions, "tolerance": tolerance})


def split_by_target(
    table: SampleTable, test_fraction: float = 0.2, val_fraction: float = 0.1, seed: int = 0, **options
) -> Split:
    """Videos grouped by target identity (scene and head on one side); see :func:`split_by_group`."""
    return split_by_group(table, lambda s: s.target, test_fraction, val_fraction, seed, by="target", **options)


def split_by_video(
    table: SampleTable, test_fraction: float = 0.2, val_fraction: float = 0.1, seed: int = 0, **options
) -> Split:
    """Every video its own group (identities may leak); see :func:`split_by_group`."""
    return split_by_group(table, lambda s: s.video, test_fraction, val_fraction, seed, by="video", **options)


def split_by_identity(
    table: SampleTable,
    test_fraction: float = 0.2,
    val_fraction: float = 0.1,
    seed: int = 0,
    tolerance: float = DEFAULT_TOLERANCE,
    progress: bool = False,
) -> Split:
    """The strict identity-disjoint split: no identity in two parts; videos that would bridge parts
    are dropped (few, by the search of :mod:`acglab.data.split_assignment`).

    Each part holds its fraction (within ``tolerance``) of the kept real and of the kept fake videos.
    """
    fractions = part_fractions(test_fraction, val_fraction)
    part_of = _assign(table, table.video_identities(), fractions, seed, tolerance, progress)
    return _finish(table, part_of, {"by": "identity", "seed": seed, "fractions": fractions, "tolerance": tolerance})


def official_split(root, table: SampleTable, val_fraction: float = 0.0, seed: int = 0, progress: bool = False) -> Split:
    """The dataset's published partition, with ``val_fraction`` of all videos carved from train by
    target group when the publication has no validation part. Unplaced videos are dropped."""
    fractions = part_fractions(0.0, val_fraction)
    part_of, notes = official_partition(root, table)
    part_of = dict(part_of)
    has_val = "val" in part_of.values()
    train = [v for v in table.videos if part_of.get(v) == "train"]
    if val_fraction > 0 and has_val:
        notes = [*notes, "the official partition has its own val part; --val-fraction is ignored"]
    elif val_fraction > 0 and train:
        share = min(val_fraction * len(table.videos) / len(train), 0.9)
        carved = split_by_target(
            table.subset(train), test_fraction=0.0, val_fraction=share, seed=seed, progress=progress
        )
        part_of.update({v: "val" for v in carved.val})
    if not train:
        notes = [*notes, "the official train part is empty: this folder holds only official test videos"]
    meta = {"by": "official", "seed": seed, "fractions": {"val": fractions["val"]}, "notes": notes}
    return _finish(table, part_of, meta)


def make_split(
    table: SampleTable,
    by: str = "target",
    test_fraction: float = 0.2,
    val_fraction: float = 0.1,
    seed: int = 0,
    root=None,
    progress: bool = False,
) -> Split:
    """The split of kind ``by`` (one of :data:`SPLIT_KINDS`); ``root`` is needed for ``"official"``."""
    if by == "official":
        if root is None:
            raise SplitError("the official split needs the dataset folder (root)")
        return official_split(root, table, val_fraction, seed, progress)
    makers = {"target": split_by_target, "identity": split_by_identity, "video": split_by_video}
    if by not in makers:
        raise SplitError(f"unknown split kind {by!r}; choose one of {', '.join(SPLIT_KINDS)}")
    return makers[by](table, test_fraction=test_fraction, val_fraction=val_fraction, seed=seed, progress=progress)


# --- split files -------------------------------------------------------------------------
def save_split(split: Split, path) -> Path:
    """Write ``split`` as JSON to ``path`` atomically (temp file, then ``os.replace``)."""
    return write_text_atomic(path, json.dumps(split.to_dict(), indent=1) + "\n")


def load_split(path) -> Split:
    """Read a split file; :class:`SplitError` when it is missing or malformed."""
    path = Path(path).expanduser()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise SplitError(f"split file {path} does not exist; make one with `acglab data split`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SplitError(f"cannot read split file {path}: {err}") from None
    return Split.from_dict(data, source=f"split file {path}")


# --- leakage -----------------------------------------------------------------------------
def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def _names(items, n: int = SHOWN_NAMES) -> str:
    items = sorted(items)
    return ", ".join(items[:n]) + (f", ... ({len(items)} in all)" if len(items) > n else "")


def _shared(identities: list[str], role: str) -> str:
    count = _count(len(identities), f"shared {role} identity", f"shared {role} identities")
    return f"{count} ({_names(identities)})"


@dataclass
class LeakageReport:
    """What the parts of a split share, per pair of parts (keys ``"train/test"`` etc.).

    - ``shared_videos``: video ids in both parts;
    - ``shared_targets``: identities that are a target (scene and head) in both parts;
    - ``shared_sources``: other identities in both parts (a face pasted in one part, shown in the other).
    """

    by: str | None
    counts: dict[str, dict[str, int]]
    shared_videos: dict[str, list[str]]
    shared_targets: dict[str, list[str]]
    shared_sources: dict[str, list[str]]

    @property
    def is_clean(self) -> bool:
        """No shared videos and no shared target identities."""
        return not self.shared_videos and not self.shared_targets

    @property
    def failures(self) -> list[str]:
        """One line per problem: shared videos or targets; any shared identity for identity splits."""
        videos = self.shared_videos.items()
        lines = [f"{k}: {_count(len(v), 'shared video', 'shared videos')} ({_names(v)})" for k, v in videos]
        lines += [f"{k}: {_shared(v, 'target')}" for k, v in self.shared_targets.items()]
        if self.by == "identity":
            lines += [f"{k}: {_shared(v, 'source')}" for k, v in self.shared_sources.items()]
        return lines

    @property
    def warnings(self) -> list[str]:
        if self.by == "identity":
            return []
        return [f"{k}: {_shared(v, 'source')}" for k, v in self.shared_sources.items()]

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "by": self.by,
            "counts": self.counts,
            "shared_videos": self.shared_videos,
            "shared_targets": self.shared_targets,
            "shared_sources": self.shared_sources,
            "failures": self.failures,
            "warnings": self.warnings,
        }


def check_split(split: Split, table: SampleTable) -> LeakageReport:
    """What the parts of ``split`` share (videos, target and source identities) in ``table``.

    Raises :class:`SplitError` when the split names videos ``table`` does not have.
    """
    identities = table.video_identities()
    named = [v for vs in (*split.parts.values(), split.dropped) for v in vs]
    unknown = sorted(set(named) - set(identities))
    if unknown:
        raise SplitError(
            f"split names {len(unknown)} videos this dataset does not have ({_names(unknown, 3)}); "
            "was it made for another dataset?"
        )
    members = {p: set(vs) for p, vs in split.parts.items()}
    targets = {p: {identities[v][0] for v in vs} for p, vs in members.items()}
    everyone = {p: {i for v in vs for i in identities[v]} for p, vs in members.items()}
    shared_videos, shared_targets, shared_sources = {}, {}, {}
    for a, b in PAIRS:
        key = f"{a}/{b}"
        if videos := members[a] & members[b]:
            shared_videos[key] = sorted(videos)
        if tgt := targets[a] & targets[b]:
            shared_targets[key] = sorted(tgt)
        if src := (everyone[a] & everyone[b]) - tgt:
            shared_sources[key] = sorted(src)
    counts = {p: {"videos": len(members[p]), **label_counts(members[p], table)} for p in PARTS}
    counts["dropped"] = {"videos": len(split.dropped)}
    return LeakageReport(split.meta.get("by"), counts, shared_videos, shared_targets, shared_sources)


def require_clean_split(split: Split, table: SampleTable, allow_leaky: bool = False) -> LeakageReport:
    """The :func:`check_split` report; :class:`SplitLeakageError` on shared videos or target
    identities unless ``allow_leaky`` (then a warning is logged)."""
    report = check_split(split, table)
    if not report.is_clean:
        shared = report.shared_videos or report.shared_targets
        first = next(iter(shared))
        n = len(shared[first])
        if report.shared_videos:
            what = _count(n, "video", "videos")
        else:
            what = _count(n, "target identity", "target identities")
        message = (
            f"split is leaky: {first} share {what} ({_names(shared[first], 3)}); "
            "make one with `acglab data split --by target` (or --by identity)"
        )
        if not allow_leaky:
            raise SplitLeakageError(message)
        log.warning("%s; continuing because leaky splits were explicitly allowed", message)
    return report
