"""The stored per-video test scores of ablation runs (``benchmarks/ablate_quick.py --export``).

In memory (what :func:`read_stored_scores` returns and :func:`write_stored_scores` takes):
``{variant: {"seedS": [[epoch, val video AUC, val frame AUC, test record], ...]}}``, a test
record being ``{"epoch", "video_auc", "frame_auc", "video_scores": {video: [P(fake), label]}}``.

On disk the test videos and their labels are written once, and each epoch keeps its scores as a
list in that order (rounded to 5 decimals), so the file holds numbers, not repeated names:
``{"format": FORMAT, "videos": [...], "labels": [...], "runs": {variant: {seed: [[epoch, val
video AUC, val frame AUC, test video AUC, test frame AUC, [score, ...]], ...]}}}``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from acglab.errors import AcglabError

FORMAT = "acglab-ablation-scores/2"


def read_stored_scores(path) -> dict:
    """The runs of a stored scores file, in the in-memory layout (module notes)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise AcglabError(f"cannot read the stored ablation scores {path}: {err}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise AcglabError(f"{path} is not a stored ablation scores file ({FORMAT})")
    videos, labels = data["videos"], data["labels"]

    def record(e, video_auc, frame_auc, scores):
        by_video = {v: [s, y] for v, s, y in zip(videos, scores, labels)}
        return {"epoch": e, "video_auc": video_auc, "frame_auc": frame_auc, "video_scores": by_video}

    return {
        variant: {
            seed: [[e, v, f, record(e, tv, tf, sc)] for e, v, f, tv, tf, sc in run] for seed, run in seeds.items()
        }
        for variant, seeds in data["runs"].items()
    }


def write_stored_scores(path, runs: dict) -> None:
    """Write ``runs`` (in-memory layout) to ``path`` atomically; every run must have been scored
    on the same test videos."""
    records = [t for seeds in runs.values() for run in seeds.values() for *_, t in run]
    if not records:
        raise AcglabError("no finished runs to store")
    first = records[0]["video_scores"]
    videos = sorted(first)
    if any(sorted(t["video_scores"]) != videos for t in records):
        raise AcglabError("the runs were scored on different test videos; store each split in its own file")
    data = {
        "format": FORMAT,
        "videos": videos,
        "labels": [first[v][1] for v in videos],
        "runs": {
            variant: {
                seed: [
                    [e, round(v, 6), round(f, 6), t["video_auc"], t["frame_auc"]]
                    + [[round(t["video_scores"][x][0], 5) for x in videos]]
                    for e, v, f, t in run
                ]
                for seed, run in sorted(seeds.items())
            }
            for variant, seeds in sorted(runs.items())
        },
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, separators=(",", ":")))
    os.replace(tmp, path)
