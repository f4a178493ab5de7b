"""Evaluating a checkpoint on a dataset: which samples, their scores, the metrics, the files.

- :func:`select_part` picks the evaluated samples: one part of a split (default ``test``) after
  checking that no video or target identity of it was seen in training, or the whole dataset
  (cross-dataset evaluation: a model trained on one dataset, tested on all of another).
- :func:`evaluate_model` scores them (:func:`acglab.eval.predict.predict_table`, score =
  P(fake)) and computes ACC, AUC and EER at frame and video level with
  :func:`acglab.metrics.evaluate` (a video's score is the mean of its frames' scores).
- :func:`write_report` writes the metrics JSON, the per-frame scores CSV and the ROC figure,
  each atomically (temp file, then ``os.replace``).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from acglab.data.samples import FAKE, SampleTable
from acglab.data.splits import PARTS, Split, check_split
from acglab.errors import AcglabError, SplitError, SplitLeakageError
from acglab.fileio import atomic_write
from acglab.metrics import evaluate, roc_figure

#: parts of a split whose videos a model may have been trained or selected on
TRAINING_PARTS = ("train", "val")
#: columns of the per-frame scores CSV
SCORE_COLUMNS = ("path", "video", "label", "score")
#: decision threshold on P(fake) for ACC and for the verdict
THRESHOLD = 0.5

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """The evaluated samples, their scores (P(fake), shape (n,)) and the metrics report."""

    table: SampleTable
    scores: np.ndarray
    report: dict = field(default_factory=dict)


def _names(items, k: int = 3) -> str:
    shown = ", ".join(items[:k])
    return shown + (f" and {len(items) - k} more" if len(items) > k else "")


def select_part(
    table: SampleTable, split: Split | None = None, part: str = "test", allow_leaky: bool = False
) -> SampleTable:
    """The samples to evaluate: ``split``'s ``part`` (table order kept), or all of ``table``.

    The part is compared with the parts a model was trained and selected on (train and val,
    except the part itself) by :func:`acglab.data.splits.check_split`; shared videos or target
    identities make the scores optimistic, so they raise :class:`SplitLeakageError` unless
    ``allow_leaky`` (then a warning is logged). Leaks between train and val alone do not
    concern the test part and are not checked here.

    Raises
    ------
    SplitError
        Unknown ``part``, a split naming videos the dataset lacks, or an empty part.
    SplitLeakageError
        The evaluated part shares videos or target identities with the training parts.
    """
    if split is None:
        return table
    if part not in PARTS:
        raise SplitError(f"unknown split part {part!r}; use one of {', '.join(PARTS)}")
    seen = [v for p in TRAINING_PARTS if p != part for v in split.parts[p]]
    probe = Split(train=seen, test=list(split.parts[part]), meta=split.meta)
    report = check_split(probe, table)
    shared_videos = report.shared_videos.get("train/test", [])
    shared_targets = report.shared_targets.get("train/test", [])
    if shared_videos or shared_targets:
        others = " and ".join(p for p in TRAINING_PARTS if p != part)
        if shared_videos:
            what = f"{len(shared_videos)} videos ({_names(shared_videos)})"
        else:
            what = f"{len(shared_targets)} target identities ({_names(shared_targets)})"
        message = (
            f"split is leaky: the {part} part shares {what} with {others}; make one with "
            "`acglab data split --by target` (or pass --allow-leaky-split to evaluate anyway)"
        )
        if not allow_leaky:
            raise SplitLeakageError(message)
        log.warning("%s; continuing because leaky splits were explicitly allowed", message)
    selected = table.subset(split.parts[part])
    if len(selected) == 0:
        raise SplitError(f"the {part} part of the split is empty; nothing to evaluate")
    return selected


def json_ready(value):
    """``value`` with NaN and infinite floats replaced by ``None`` (strict JSON), numpy scalars
    as Python numbers, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def metrics_report(table: SampleTable, scores, threshold: float = THRESHOLD) -> dict:
    """``{"frame": {acc, auc, eer, eer_threshold}, "video": {...}, "n_frames", "n_videos"}`` of
    scores ``P(fake)`` (shape (n,)) for the rows of ``table``, by :func:`acglab.metrics.evaluate`."""
    return evaluate(table.labels, np.asarray(scores, dtype=np.float64), [s.video for s in table], threshold=threshold)


def evaluate_model(
    model,
    table: SampleTable,
    batch_size: int = 32,
    device="cpu",
    num_workers: int = 0,
    progress: bool = False,
    threshold: float = THRESHOLD,
) -> Evaluation:
    """Score every row of ``table`` with ``model`` and compute the metrics (see module docstring)."""
    from acglab.eval.predict import predict_table

    scores = predict_table(
        model, table, batch_size=batch_size, device=device, num_workers=num_workers, progress=progress
    )
    return Evaluation(table=table, scores=scores, report=metrics_report(table, scores, threshold))


def scores_csv_text(table: SampleTable, scores) -> str:
    """The per-frame scores as CSV text: a header :data:`SCORE_COLUMNS`, then one row per sample."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SCORE_COLUMNS)
    for sample, score in zip(table, np.asarray(scores, dtype=np.float64)):
        writer.writerow([sample.path, sample.video, sample.label, repr(float(score))])
    return buf.getvalue()


def read_scores_csv(path) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """``(paths, videos, labels (n,), scores (n,))`` read back from a scores CSV."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return (
        [r["path"] for r in rows],
        [r["video"] for r in rows],
        np.array([int(r["label"]) for r in rows]),
        np.array([float(r["score"]) for r in rows]),
    )


def scores_csv_path(json_path) -> Path:
    """Where the scores CSV goes: beside the JSON, ``<name>.scores.csv``."""
    p = Path(json_path)
    return p.with_name(f"{p.stem}.scores.csv")


def kaleido_available() -> bool:
    """Whether plotly can export static images here (needs the ``kaleido`` package)."""
    import importlib.util

    return importlib.util.find_spec("kaleido") is not None


ROC_SUFFIXES = (".html", ".png")


def check_roc_path(roc_path) -> None:
    """:class:`AcglabError` for a ROC figure name not ending in ``.html`` or ``.png``."""
    if Path(roc_path).suffix.lower() not in ROC_SUFFIXES:
        raise AcglabError(f"ROC figure {roc_path}: use a .html or .png file name")


def check_output_paths(json_path, roc_path=None) -> None:
    """:class:`AcglabError` for a metrics file not named ``.json`` or a bad ROC figure name
    (checked before any work is done)."""
    if Path(json_path).suffix.lower() != ".json":
        raise AcglabError(f"metrics file {json_path}: use a .json file name")
    if roc_path is not None:
        check_roc_path(roc_path)


def write_roc(path, fig) -> Path:
    """Write the plotly ROC figure ``fig`` at ``path``; returns the path actually written.

    ``.html`` writes the interactive page. ``.png`` is a static export through kaleido; where
    kaleido is missing or cannot run (it needs a Chrome/Chromium binary), the HTML page is
    written instead, beside it with the ``.html`` suffix.
    """
    path = Path(path)
    check_roc_path(path)
    if path.suffix.lower() == ".png":
        if kaleido_available():
            try:
                return atomic_write(path, lambda tmp: fig.write_image(str(tmp), format="png"))
            except Exception as err:  # kaleido raises several types when no browser is found
                reason = str(err).splitlines()[0] if str(err) else type(err).__name__
                log.warning("PNG export through kaleido failed (%s)", reason)
        path = path.with_suffix(".html")
    return atomic_write(path, lambda tmp: fig.write_html(str(tmp), include_plotlyjs="cdn"))


def one_class_note(table: SampleTable) -> str | None:
    """A one-line note when ``table`` holds one class only (AUC and EER undefined), else ``None``."""
    labels = set(table.labels)
    if len(labels) != 1:
        return None
    only = "fake" if FAKE in labels else "real"
    return (
        f"the evaluated faces are all {only} ({len(table)} frames): AUC and EER are undefined and no ROC curve "
        f"is drawn; ACC is the share scored {only}"
    )


def write_report(json_path, evaluation: Evaluation, info: dict | None = None, roc_path=None, name: str = "") -> dict:
    """Write the scores CSV, the ROC figure (given ``roc_path``) and, last, the metrics JSON.

    The JSON holds ``evaluation.report`` (``frame``, ``video``, ``n_frames``, ``n_videos``), then
    ``info`` (checkpoint, config, data), the threshold and the paths of the other files; NaN
    (AUC/EER with one class) becomes ``null``. Everything is computed before the first file is
    written. Returns the dictionary written.
    """
    check_output_paths(json_path, roc_path)
    json_path = Path(json_path)
    csv_path = scores_csv_path(json_path)
    csv_text = scores_csv_text(evaluation.table, evaluation.scores)
    fig = None
    if roc_path is not None and len(set(evaluation.table.labels)) > 1:  # no ROC curve with one class
        table = evaluation.table
        fig = roc_figure(
            table.labels, np.asarray(evaluation.scores, dtype=np.float64), [s.video for s in table], name=name
        )
    atomic_write(csv_path, lambda tmp: tmp.write_text(csv_text))
    written_roc = write_roc(roc_path, fig) if fig is not None else None
    data = {
        **evaluation.report,
        **(info or {}),
        "threshold": THRESHOLD,
        "score": "P(fake) = sigmoid(logit); a video's score is the mean of its frames' scores",
        "files": {"scores": str(csv_path), "roc": str(written_roc) if written_roc else None},
    }
    data = json_ready(data)
    text = json.dumps(data, indent=2) + "\n"
    atomic_write(json_path, lambda tmp: tmp.write_text(text))
    return data
