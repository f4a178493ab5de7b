"""The benchmark scripts run (tiny settings on the CPU): what a GPU machine will run as is."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_gpu_runs_end_to_end_on_the_cpu(tmp_path, capsys):
    from acglab.data.offline import offline_faces

    data = offline_faces(tmp_path / "faces", n_per_category=6, size=64, frames_per_video=2, progress=False)
    out = tmp_path / "gpu.json"
    code = _script("bench_gpu").main(
        [
            "--device",
            "cpu",
            "--pretrained",
            "none",
            "--backbone",
            "test_efficientnet",
            "--img-size",
            "32",
            "--batch-size",
            "4",
            "--steps",
            "1",
            "--warmup",
            "0",
            "--data",
            str(data),
            "--train-steps",
            "2",
            "--json",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0
    result = json.loads(out.read_text())
    assert [r["arch"] for r in result["throughput"]] == ["backbone", "acg"]  # fp32 only on a CPU
    assert all(r["images_per_second"] > 0 for r in result["throughput"])
    assert result["end_to_end"]["steps"] == 2 and "end to end: 2 steps" in text


def test_bench_gpu_refuses_unknown_modes(capsys):
    code = _script("bench_gpu").main(["--device", "cpu", "--pretrained", "none", "--modes", "fp8"])
    assert code == 2 and "unknown modes" in capsys.readouterr().err


def test_bench_train_interleaves_configs():
    from acglab.train.presets import preset

    bench = _script("bench_train")
    base = preset(
        "quick",
        backbone="test_efficientnet",
        pretrained=False,
        img_size=32,
        batch_size=4,
        model_options={"decoder_channels": [8, 8, 8]},
    )
    result = bench.time_interleaved({"a": base.replace(channels_last=False), "b": base}, steps=2, warmup=1)
    assert set(result) == {"a", "b"} and all(r["steps"] == 2 and r["images_per_second"] > 0 for r in result.values())
