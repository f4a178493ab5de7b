"""The ablation of ACG: the plain backbone, ACG without the OT module, and ACG, trained with one
budget and compared on the test part (thesis chapter 3).

A *runs folder* holds one run folder per arm, named after the architecture::

    RUNS/backbone/   RUNS/acg-no-ot/   RUNS/acg/

each written by ``acglab train --arch ARM --out RUNS/ARM`` (``best.pt``, ``last.pt``, ``log.csv``,
...) and, optionally, ``test.json`` + ``test.scores.csv`` written by
``acglab eval --checkpoint RUNS/ARM/best.pt --json RUNS/ARM/test.json``.

- :func:`train_ablation` trains the missing arms with one :class:`~acglab.train.TrainConfig`
  (only ``arch`` differs; a folder that already holds the run is resumed, so a finished run is
  reused as it is), evaluates each on the test part and writes its ``test.json``.
- :func:`read_ablation` reads a finished runs folder: ``test.json`` where present, otherwise it
  evaluates ``best.pt`` (``last.pt`` when the run had no validation) on the test table given.

Every arm becomes an :class:`ArmResult`; :func:`ablation_rows` turns them into the table (video
AUC, video EER, frame AUC, frame EER, frame ACC).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from acglab.data.samples import SampleTable
from acglab.errors import AcglabError, DataLayoutError

#: the arms, in table order, and how the table names them
ABLATION_ARMS = ("backbone", "acg-no-ot", "acg")
ARM_NAMES = {"backbone": "backbone (BCE only)", "acg-no-ot": "ACG without OT", "acg": "ACG"}
TEST_REPORT = "test.json"
#: checkpoints evaluated when a run folder has no test.json, in order of preference
CHECKPOINTS = ("best.pt", "last.pt")
#: columns of :func:`ablation_rows`: (key, level, metric)
COLUMNS = (
    ("video_auc", "video", "auc"),
    ("video_eer", "video", "eer"),
    ("frame_auc", "frame", "auc"),
    ("frame_eer", "frame", "eer"),
    ("frame_acc", "frame", "acc"),
)


@dataclass
class ArmResult:
    """One arm's test metrics and, where known, its per-frame test scores.

    report : ``{"frame": {acc, auc, eer, ...}, "video": {...} or None, "n_frames", "n_videos"}``
    labels, scores, videos : (n,) labels (1 = real), P(fake) and video ids, or ``None``
    source : where the numbers come from (``"test.json"``, ``"best.pt"``, ``"last.pt"``)
    """

    arm: str
    run_dir: Path
    report: dict
    source: str
    labels: np.ndarray | None = None
    scores: np.ndarray | None = None
    videos: list[str] | None = None
    steps: int | None = None
    info: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return ARM_NAMES.get(self.arm, self.arm)


def _check_arms(arms) -> tuple[str, ...]:
    arms = tuple(arms)
    unknown = [a for a in arms if a not in ABLATION_ARMS]
    if unknown or not arms:
        raise AcglabError(f"unknown ablation arm(s) {unknown}; choose among {', '.join(ABLATION_ARMS)}")
    return arms


def _metric(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def read_test_report(path) -> dict:
    """The metrics of a ``test.json`` written by ``acglab eval`` (``null`` read as NaN).

    Raises :class:`DataLayoutError` when it is unreadable or has no frame-level metrics.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataLayoutError(f"cannot read {path} ({type(err).__name__}); write it again with `acglab eval`") from None
    if not isinstance(data, dict) or not isinstance(data.get("frame"), dict):
        raise DataLayoutError(
            f"{path} holds no frame-level metrics; write it with `acglab eval ... --json {path.name}`"
        )
    report = {"n_frames": data.get("n_frames"), "n_videos": data.get("n_videos")}
    for level in ("frame", "video"):
        block = data.get(level)
        report[level] = {k: _metric(v) for k, v in block.items()} if isinstance(block, dict) else None
    return report


def _run_steps(run_dir: Path) -> int | None:
    try:
        steps = json.loads((run_dir / "summary.json").read_text()).get("steps")
    except (OSError, ValueError, AttributeError):
        return None
    return steps if isinstance(steps, int) else None


def _from_report(arm: str, run_dir: Path) -> ArmResult:
    from acglab.eval.evaluate import read_scores_csv, scores_csv_path

    path = run_dir / TEST_REPORT
    result = ArmResult(arm, run_dir, read_test_report(path), TEST_REPORT, steps=_run_steps(run_dir))
    csv_path = scores_csv_path(path)
    if csv_path.is_file():
        try:
            _, videos, labels, scores = read_scores_csv(csv_path)
        except (OSError, KeyError, ValueError) as err:
            raise DataLayoutError(
                f"cannot read {csv_path} ({type(err).__name__}); write it again with `acglab eval`"
            ) from None
        result.labels, result.scores, result.videos = labels, scores, videos
    return result


def evaluate_run(
    arm: str,
    run_dir,
    test_table: SampleTable,
    device="cpu",
    batch_size: int = 32,
    progress: bool = False,
    write: bool = True,
) -> ArmResult:
    """Evaluate a run folder's ``best.pt`` (else ``last.pt``) on ``test_table``; with ``write``,
    store ``test.json`` and ``test.scores.csv`` in the folder (as ``acglab eval`` does)."""
    from acglab.eval.evaluate import evaluate_model, write_report
    from acglab.models.checkpoint import model_from_checkpoint

    run_dir = Path(run_dir)
    found = [run_dir / name for name in CHECKPOINTS if (run_dir / name).is_file()]
    if not found:
        raise DataLayoutError(
            f"{run_dir} holds no {TEST_REPORT} and no {' or '.join(CHECKPOINTS)}; train the "
            f"{arm!r} arm there with `acglab train --arch {arm} --out {run_dir}`"
        )
    model = model_from_checkpoint(found[0], map_location="cpu")
    evaluation = evaluate_model(model, test_table, batch_size=batch_size, device=device, progress=progress)
    if write:
        info = {
            "checkpoint": {"path": str(found[0])},
            "config": getattr(model, "config", None),
            "data": {"summary": test_table.summary(), "part": "test"},
        }
        write_report(run_dir / TEST_REPORT, evaluation, info, name=arm)
    table = evaluation.table
    return ArmResult(
        arm,
        run_dir,
        evaluation.report,
        found[0].name,
        labels=np.asarray(table.labels),
        scores=np.asarray(evaluation.scores),
        videos=[s.video for s in table],
        steps=_run_steps(run_dir),
    )


def read_ablation(
    runs_dir, test_table: SampleTable | None = None, arms=ABLATION_ARMS, device="cpu", progress: bool = False
) -> list[ArmResult]:
    """The arms of a finished runs folder (module notes), in the order of ``arms``.

    An arm folder with ``test.json`` is read (its ``test.scores.csv`` too, when present); one
    without it is evaluated on ``test_table`` (the test part of the split the runs were trained
    with) and nothing is written there.

    Raises
    ------
    DataLayoutError
        ``runs_dir`` or an arm folder is missing, or an arm has neither ``test.json`` nor a
        checkpoint, or needs evaluating and no ``test_table`` was given.
    """
    arms = _check_arms(arms)
    runs_dir = Path(runs_dir).expanduser()
    if not runs_dir.is_dir():
        raise DataLayoutError(f"runs folder {runs_dir} does not exist; it should hold {', '.join(arms)} run folders")
    missing = [a for a in arms if not (runs_dir / a).is_dir()]
    if missing:
        raise DataLayoutError(
            f"runs folder {runs_dir} has no {', '.join(missing)} folder; train them with "
            f"`acglab train --arch ARM --out {runs_dir}/ARM`"
        )
    results = []
    for arm in arms:
        run_dir = runs_dir / arm
        if (run_dir / TEST_REPORT).is_file():
            results.append(_from_report(arm, run_dir))
        elif test_table is None:
            raise DataLayoutError(
                f"{run_dir} has no {TEST_REPORT}; write it with `acglab eval --checkpoint "
                f"{run_dir}/best.pt ... --json {run_dir}/{TEST_REPORT}` or pass the test table"
            )
        else:
            results.append(evaluate_run(arm, run_dir, test_table, device=device, progress=progress, write=False))
    return results


def train_ablation(
    config,
    train_table: SampleTable,
    val_table: SampleTable,
    test_table: SampleTable,
    runs_dir,
    arms=ABLATION_ARMS,
    device="auto",
    max_steps: int | None = None,
    progress: bool | None = True,
    data_root=None,
) -> list[ArmResult]:
    """Train every arm with ``config`` (only ``arch`` changes) in ``runs_dir/ARM``, evaluate it on
    ``test_table`` and write its ``test.json``; returns the results in the order of ``arms``.

    A folder already holding a run (``last.pt``) is resumed with the same settings, so a
    finished run is only evaluated; a run with other settings stops with
    :class:`~acglab.errors.CheckpointError`.
    """
    from acglab.devices import resolve_device
    from acglab.train import train

    arms = _check_arms(arms)
    runs_dir = Path(runs_dir).expanduser()
    eval_device = resolve_device(str(device))
    results = []
    for arm in arms:
        run_dir = runs_dir / arm
        train(
            config.replace(arch=arm),
            train_table,
            val_table,
            run_dir,
            resume=(run_dir / "last.pt").is_file(),
            device=device,
            max_steps=max_steps,
            progress=progress,
            data_root=data_root,
        )
        results.append(evaluate_run(arm, run_dir, test_table, device=eval_device, progress=bool(progress)))
    return results


def ablation_rows(results: list[ArmResult]) -> list[dict]:
    """One dict per arm: ``arm``, ``name``, ``video_auc``, ``video_eer``, ``frame_auc``,
    ``frame_eer``, ``frame_acc`` (NaN where undefined), ``steps`` and ``source``."""
    rows = []
    for r in results:
        row = {"arm": r.arm, "name": r.name}
        for key, level, metric in COLUMNS:
            block = r.report.get(level) or {}
            row[key] = _metric(block.get(metric))
        row["steps"], row["source"] = r.steps, r.source
        rows.append(row)
    return rows


def ablation_intervals(
    results: list[ArmResult], reference: str = "backbone", n_boot: int = 2000, seed: int = 0
) -> list[dict]:
    """Video AUC of each arm with its bootstrap interval over the test videos, and the paired
    interval of its difference to the ``reference`` arm (:mod:`acglab.metrics.bootstrap`).

    Every arm needs its per-frame test scores (``ArmResult.scores``) on the same test videos.
    Returns one dict per arm: ``arm``, ``name``, ``video_auc``, ``ci`` (low, high) and, for the
    arms other than the reference, ``diff`` (A - reference) and ``diff_ci``.
    """
    from acglab.metrics import video_scores
    from acglab.metrics.bootstrap import auc_interval, paired_auc_interval

    per_video = {}
    for r in results:
        if r.scores is None:
            raise AcglabError(
                f"arm {r.arm!r} has no per-frame test scores (test.scores.csv); evaluate it again with `acglab eval`"
            )
        labels, scores, videos = video_scores(r.labels, r.scores, r.videos)
        per_video[r.arm] = dict(zip(videos, zip(labels, scores)))
    common = sorted(set.intersection(*(set(v) for v in per_video.values())))
    if not common:
        raise AcglabError("the arms were scored on different test videos; evaluate them on the same test part")
    labels = np.array([per_video[results[0].arm][v][0] for v in common])
    vectors = {arm: np.array([d[v][1] for v in common]) for arm, d in per_video.items()}
    rows = []
    for r in results:
        ci = auc_interval(labels, vectors[r.arm], n_boot=n_boot, seed=seed)
        row = {"arm": r.arm, "name": r.name, "video_auc": ci.estimate, "ci": (ci.low, ci.high), "n_videos": len(common)}
        if r.arm != reference and reference in vectors:
            d = paired_auc_interval(labels, vectors[r.arm], vectors[reference], n_boot=n_boot, seed=seed)
            row["diff"], row["diff_ci"] = d.estimate, (d.low, d.high)
        rows.append(row)
    return rows


#: rules of choosing a run's checkpoint from its per-epoch validation scores (:func:`choose_epoch`)
CHECKPOINT_RULES = ("val video AUC", "val frame AUC", "val video AUC, 3-epoch mean", "last epoch")


def choose_epoch(run: list, rule: str = "val frame AUC"):
    """The epoch record of a stored run (``[[epoch, val video AUC, val frame AUC, test record],
    ...]``) that ``rule`` picks; on ties the earliest, as ``best.pt`` keeps the first best.
    ``"val frame AUC"`` is the rule :func:`acglab.train.train` keeps ``best.pt`` by."""
    if rule not in CHECKPOINT_RULES:
        raise AcglabError(f"unknown checkpoint rule {rule!r}; choose one of {', '.join(CHECKPOINT_RULES)}")
    if rule == "last epoch":
        return run[-1]
    if rule == "val video AUC":
        values = np.array([r[1] for r in run], dtype=float)
    elif rule == "val frame AUC":
        values = np.array([r[2] for r in run], dtype=float)
    else:
        v = np.array([r[1] for r in run], dtype=float)
        values = np.array([v[max(0, i - 2) : i + 1].mean() for i in range(len(v))])
    return run[int(np.argmax(values))]


def _epoch_scores(run: list, rule: str) -> dict:
    """``{video: (label, score)}`` of the epoch ``rule`` picks in one stored run."""
    return {v: (int(y), float(s)) for v, (s, y) in choose_epoch(run, rule)[3]["video_scores"].items()}


def stored_ablation(
    path,
    arms: dict[str, str],
    reference: str,
    n_boot: int = 2000,
    seed: int = 0,
    skip_missing: bool = False,
    rule: str = "val frame AUC",
) -> list[dict]:
    """Ablation rows over seeds from a stored scores file (``benchmarks/ablate_quick.py --export``).

    ``path`` holds, per variant, ``{"seedS": [[epoch, val video AUC, val frame AUC, test record], ...]}``
    where a test record holds ``video_scores`` ``{video: [P(fake), label]}``
    (:mod:`acglab.eval.stored_scores`). For each variant
    of ``arms`` (variant -> display name) and each seed, the epoch checkpoint ``rule`` picks
    (:func:`choose_epoch`; by default the one :func:`acglab.train.train` keeps as ``best.pt``)
    is taken; the row gives the mean test
    video AUC over the seeds with its bootstrap interval over the test videos and, against
    ``reference``, the paired interval over the seeds both have. Rows as
    :func:`ablation_intervals` makes them (plus ``seeds``), for
    :func:`acglab.viz.ablation_figures.ablation_interval_figure`. A variant the file does not
    hold is an error, or left out with ``skip_missing``.
    """
    from acglab.eval.stored_scores import read_stored_scores
    from acglab.metrics.bootstrap import auc_interval, paired_auc_interval

    stored = read_stored_scores(path)
    missing = [a for a in arms if a not in stored]
    if skip_missing:
        arms = {a: n for a, n in arms.items() if a in stored}
        missing = [] if arms else missing
    if missing:
        raise AcglabError(f"{path} holds no runs of {', '.join(missing)}; it has {', '.join(sorted(stored))}")
    picked = {a: {s: _epoch_scores(run, rule) for s, run in stored[a].items()} for a in arms}
    videos = sorted(set.intersection(*(set(d) for runs in picked.values() for d in runs.values())))
    if not videos:
        raise AcglabError(f"the runs in {path} were scored on different test videos")
    first = next(iter(picked[next(iter(arms))].values()))
    labels = np.array([first[v][0] for v in videos])

    def matrix(arm, seeds):
        return np.array([[picked[arm][s][v][1] for v in videos] for s in seeds])

    rows = []
    for arm, name in arms.items():
        seeds = sorted(picked[arm])
        ci = auc_interval(labels, matrix(arm, seeds), n_boot=n_boot, seed=seed)
        row = {
            "arm": arm,
            "name": name,
            "video_auc": ci.estimate,
            "ci": (ci.low, ci.high),
            "n_videos": len(videos),
            "seeds": len(seeds),
        }
        common = sorted(set(seeds) & set(picked.get(reference, {})))
        if arm != reference and common:
            d = paired_auc_interval(labels, matrix(arm, common), matrix(reference, common), n_boot=n_boot, seed=seed)
            row["diff"], row["diff_ci"] = d.estimate, (d.low, d.high)
        rows.append(row)
    return rows
