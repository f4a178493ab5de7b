"""A small detector for demonstrations, trained once and cached: what the analysis app (notebook
07) uses when no checkpoint is given.

It is the quick preset (:func:`acglab.train.presets.preset`) shortened to a few epochs on one frame
per video of a dataset split by target identity (:func:`acglab.data.splits.split_by_target`), so
that it trains in a couple of minutes on a laptop CPU. Its validation part calibrates its
probabilities like any run's. It is a teaching stand-in: a researcher trains ``acglab train
--preset quick`` (or ``full``) and points the app at that checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path

from acglab.errors import AcglabError

#: epochs of the demonstration detector
DEMO_EPOCHS = 3


def demo_config(epochs: int = DEMO_EPOCHS):
    """The quick preset shortened for a demonstration (module notes)."""
    from acglab.train.presets import PRESETS, preset

    quick = PRESETS["quick"]
    ot = {**quick.model_options.get("ot", {}), "bank_size": 256, "warmup": 64, "refit_every": 4}
    return preset(
        "quick", epochs=epochs, frames_per_video=1, num_workers=0, model_options={**quick.model_options, "ot": ot}
    )


def demo_detector(data=None, root=None, epochs: int = DEMO_EPOCHS, progress: bool = False) -> Path:
    """The checkpoint (``best.pt``) of the demonstration detector on ``data`` (default:
    :func:`acglab.data.default.default_data`), trained into ``root/demo-<key>`` (default root:
    the acglab cache's ``detectors`` folder) unless that run finished already; an interrupted
    run resumes."""
    from acglab.data import load_dataset
    from acglab.data.default import default_data
    from acglab.data.splits import split_by_target
    from acglab.train.cache import cached_run_dir
    from acglab.train.loop import train

    data = Path(data) if data is not None else default_data().path
    config = demo_config(epochs)
    run_dir = cached_run_dir(config, data, "demo", root=root)
    summary = run_dir / "summary.json"
    if not (summary.is_file() and json.loads(summary.read_text()).get("finished")):
        table = load_dataset(data)
        split = split_by_target(table)
        parts = {part: table.subset(videos) for part, videos in split.parts.items()}
        train(
            config,
            parts["train"],
            parts["val"],
            run_dir,
            device="cpu",
            progress=progress,
            data_root=data,
            resume=(run_dir / "last.pt").is_file(),
            config_extra={"preset": "demo", "split": "split_by_target(seed=0)"},
        )
    best = run_dir / "best.pt"
    if not best.is_file():
        best = run_dir / "last.pt"
    if not best.is_file():
        raise AcglabError(f"the demonstration detector in {run_dir} wrote no checkpoint")
    return best
