"""Multi-process training (DDP, gloo on CPU): two ranks through ``torch.multiprocessing`` and
``torchrun -m acglab.cli train``."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from synthetic_faces import make_generic

from acglab.data import load_dataset, save_split, split_by_video

ROOT = Path(__file__).resolve().parents[1]
TINY_MODEL = {"decoder_channels": [16, 8, 8], "ot": {"bank_size": 32, "warmup": 8, "refit_every": 2, "dim": 4}}
WORLD = 2


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    base = tmp_path_factory.mktemp("ddp")
    root = make_generic(base / "faces")
    split = base / "split.json"
    save_split(split_by_video(load_dataset(root), test_fraction=0.0, val_fraction=0.25, seed=0), split)
    return root, split


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_main(rank: int, port: int, root: str, split: str, run_dir: str, out_dir: str) -> None:
    from acglab.data import load_split
    from acglab.train import preset, train

    os.environ.update(
        RANK=str(rank), WORLD_SIZE=str(WORLD), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
    )
    torch.set_num_threads(1)
    table, parts = load_dataset(root), load_split(split)
    config = preset(
        "quick",
        backbone="test_efficientnet",
        pretrained=False,
        img_size=32,
        batch_size=4,
        epochs=2,
        checkpoint_every=3,
        model_options=TINY_MODEL,
        deterministic=True,
    )
    seen, final = [], {}

    def after_step(step, model):
        seen.append(step)
        final["params"] = {k: v.detach().clone() for k, v in model.named_parameters()}

    summary = train(
        config,
        table.subset(parts.train),
        table.subset(parts.val),
        run_dir,
        device="cpu",
        progress=False,
        on_step=after_step,
    )
    torch.save({"params": final["params"], "steps": seen, "summary": summary}, Path(out_dir) / f"rank{rank}.pt")


def test_two_ranks_end_with_identical_weights(tmp_path, data):
    root, split = data
    run = tmp_path / "run"
    mp.spawn(_rank_main, args=(free_port(), str(root), str(split), str(run), str(tmp_path)), nprocs=WORLD, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in range(WORLD)]
    # 36 training images: 18 per rank, batch 4 -> 4 steps per epoch (the last 2 images dropped)
    assert ranks[0]["steps"] == ranks[1]["steps"] == list(range(1, 9))
    a, b = ranks[0]["params"], ranks[1]["params"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    saved = torch.load(run / "last.pt", weights_only=True)
    assert all(torch.equal(saved["model"][k], a[k]) for k in a)  # rank 0 wrote its own weights
    assert saved["state"]["world_size"] == WORLD and len(saved["state"]["rng"]) == WORLD
    # both ranks computed the same validation metrics from the gathered scores
    h0, h1 = (r["summary"]["history"] for r in ranks)
    keep = ("val_frame_auc", "val_video_auc", "val_frames", "train_loss")
    assert [{k: row[k] for k in keep} for row in h0] == [{k: row[k] for k in keep} for row in h1]
    assert all(math.isfinite(row["train_loss"]) for row in h0) and h0[-1]["val_frames"] == 12
    # only rank 0 wrote: one set of files, one TensorBoard event file, nothing half-written
    assert sorted(p.name for p in run.iterdir()) == [
        "best.pt",
        "config.json",
        "last.pt",
        "log.csv",
        "summary.json",
        "tb",
    ]
    assert len(list((run / "tb").iterdir())) == 1
    assert json.loads((run / "summary.json").read_text())["world_size"] == WORLD


def test_torchrun_cli(tmp_path, data):
    root, split = data
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed beside this Python")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [
        str(torchrun),
        "--standalone",
        f"--nproc_per_node={WORLD}",
        "-m",
        "acglab.cli",
        "train",
        "--data",
        str(root),
        "--split",
        str(split),
        "--preset",
        "quick",
        "--out",
        str(tmp_path / "run"),
        "--backbone",
        "test_efficientnet",
        "--pretrained",
        "none",
        "--img-size",
        "32",
        "--batch-size",
        "4",
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--max-steps",
        "2",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("2 steps") == 1  # the summary line comes from rank 0 only
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["world_size"] == WORLD and summary["steps"] == 2
    assert math.isfinite(summary["last"]["train_loss"])
