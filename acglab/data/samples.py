"""The sample table: one row per image (or video) of a face-forgery dataset.

Every loader in :mod:`acglab.data` returns a :class:`SampleTable`, so splits, training and
evaluation never depend on a dataset's folder layout.

Conventions
-----------
- ``label``: 1 = real, 0 = fake (the convention of Celeb-DF's ``List_of_testing_videos.txt``).
- ``video``: ``"<category>/<name>"``, unique within a dataset, e.g. ``"Celeb-real/id0_0001"``,
  ``"Celeb-synthesis/id0_id1_0001"``, ``"YouTube-real/00012"``. Split files list these ids.
- ``identities``: the people a video shows, target first. A real video has one identity; a
  face-swap fake ``idA_idB_N`` has ``("idA", "idB")``: the scene and head of target A with the
  face of source B. Videos with no known identity get a unique pseudo-identity (their video id).
- ``frame``: the frame index of an extracted image, or ``None`` for a video file.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

from acglab.labels import FAKE, REAL  # noqa: F401  (re-exported: the labels of a Sample)


@dataclass(frozen=True)
class Sample:
    """One image (or video) of a dataset; see the module docstring for the conventions."""

    path: str
    label: int
    video: str
    identities: tuple[str, ...]
    category: str
    dataset: str
    frame: int | None = None

    @property
    def target(self) -> str:
        """The identity whose scene and head the video shows (first identity)."""
        return self.identities[0]

    @property
    def source(self) -> str | None:
        """The identity whose face was pasted in (fakes only), else ``None``."""
        return self.identities[1] if len(self.identities) > 1 else None

    @property
    def is_real(self) -> bool:
        return self.label == REAL


@dataclass
class SampleTable(Sequence[Sample]):
    """An ordered, immutable-by-convention list of :class:`Sample` rows with split helpers."""

    samples: list[Sample] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return SampleTable(self.samples[i])
        return self.samples[i]

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    # --- views -----------------------------------------------------------------------
    @property
    def videos(self) -> list[str]:
        """Video ids in order of first appearance."""
        return list(dict.fromkeys(s.video for s in self.samples))

    @property
    def labels(self) -> list[int]:
        return [s.label for s in self.samples]

    @property
    def datasets(self) -> list[str]:
        return sorted({s.dataset for s in self.samples})

    def video_labels(self) -> dict[str, int]:
        """Label of each video (all frames of a video share it)."""
        return {s.video: s.label for s in self.samples}

    def video_identities(self) -> dict[str, tuple[str, ...]]:
        return {s.video: s.identities for s in self.samples}

    def subset(self, videos: Iterable[str]) -> SampleTable:
        """Rows whose video id is in ``videos`` (order of this table kept)."""
        keep = set(videos)
        return SampleTable([s for s in self.samples if s.video in keep])

    def where(self, **equal) -> SampleTable:
        """Rows whose attributes equal the given values, e.g. ``where(label=1)``."""
        return SampleTable([s for s in self.samples if all(getattr(s, k) == v for k, v in equal.items())])

    def summary(self) -> dict:
        """Counts used by ``acglab data index --json``."""
        vl = self.video_labels()
        return {
            "dataset": "+".join(self.datasets) if self.samples else "",
            "videos": len(vl),
            "frames": sum(1 for s in self.samples if s.frame is not None),
            "real_videos": sum(1 for v in vl.values() if v == REAL),
            "fake_videos": sum(1 for v in vl.values() if v == FAKE),
            "categories": dict(
                sorted(Counter(s.category for s in {s.video: s for s in self.samples}.values()).items())
            ),
        }

    def to_records(self) -> list[dict]:
        return [asdict(s) for s in self.samples]

    def to_dataframe(self):
        """A pandas DataFrame of the rows (pandas is optional)."""
        import pandas as pd

        return pd.DataFrame(self.to_records())

    def to_json(self) -> str:
        return json.dumps(self.to_records())
