"""How fast is an analysis? `acglab analyze` from a cold start, one face with the model loaded,
and the report; with where the time goes and two baselines in the same run.

1. Cold start: `acglab analyze FRAME --checkpoint CKPT --no-latent` as a new process, on a copy
   of the checkpoint in a new folder: once as the first analysis of that checkpoint (which
   builds the network, with timm, and writes its TorchScript export beside it), then
   ``--repeats`` times as a later analysis (which loads the export), with the steps that run
   reports in its JSON. Against the import floor: the interpreter alone, `python -c "import
   torch"`, the other libraries the analysis needs (numpy, OpenCV, Pillow), acglab's modules on
   that path with the command-line parser, and what it avoids: `"import torchvision"` and
   `"import timm"` (timm imports torchvision, which imports torch's compiler stack).
2. Warm: the model loaded once (:class:`acglab.app.analysis.Analyzer`, reference map cached),
   then each of ``--faces`` full frames analysed: detection, crop, verdict, Grad-CAM and
   residual, latent placement; median and 90th percentile per face, and per step.
   Baseline: the same frames through ``pytorch_grad_cam.GradCAM`` for the heatmap (the library
   acglab's own Grad-CAM agrees with), timed per call and for its import.
3. The report of one analysis: HTML with the interactive map, static HTML, and the PDF.

Usage:

    python benchmarks/bench_analyze.py --data ../shared/data/celebdf-mini --checkpoint RUN/last.pt [--faces 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--checkpoint", required=True, type=Path)
    p.add_argument("--faces", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3, help="cold starts timed (the median is reported)")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    frames = sorted((args.data / "frames").rglob("*.jpg"))[: args.faces]
    if not frames:
        raise SystemExit(f"no full frames under {args.data / 'frames'}")
    py = sys.executable
    acglab = str(Path(py).with_name("acglab"))
    out = {"machine": f"{platform.processor() or platform.machine()}", "faces": len(frames)}

    # 1. cold start and the import floor
    out["load_average"] = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Path(tmp) / args.checkpoint.name
        shutil.copy(args.checkpoint, ckpt)
        if (args.checkpoint.parent / "config.json").is_file():
            shutil.copy(args.checkpoint.parent / "config.json", ckpt.parent)
        command = [
            acglab,
            "analyze",
            str(frames[0]),
            "--checkpoint",
            str(ckpt),
            "--no-latent",
            "--device",
            "cpu",
            "--json",
            str(Path(tmp) / "cold.json"),
        ]
        first = wall(command)
        cold = [wall(command) for _ in range(args.repeats)]
        cold_steps = json.loads((Path(tmp) / "cold.json").read_text())["analyses"][0]["seconds"]
    floor_code = {
        "python": "pass",
        "torch": "import torch",
        "numpy, cv2, PIL": "import numpy, cv2, PIL.Image",
        "acglab analysis modules": (
            "import torch, acglab.app.analysis, acglab.app.export, acglab.faces.mtcnn, "
            "acglab.explain.explanation, acglab.cli; acglab.cli.build_parser()"
        ),
        "torchvision": "import torchvision",
        "timm": "import timm",
    }
    floor = {
        m: float(np.median([wall([py, "-c", code]) for _ in range(args.repeats)])) for m, code in floor_code.items()
    }
    out["cold"] = {"analyze": float(np.median(cold)), "first_analysis": first, "steps": cold_steps, "imports": floor}
    out["load_average_after"] = os.getloadavg()[0]

    # 2. warm
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch, as acglab sets it for the command line
    import torch

    from acglab.app.analysis import Analyzer
    from acglab.data.images import load_image

    torch.set_num_threads(max(1, torch.get_num_threads()))
    t = time.perf_counter()
    analyzer = Analyzer(args.checkpoint).with_reference(args.data)
    out["load_seconds"] = time.perf_counter() - t
    images = [load_image(f, max_side=2048) for f in frames]
    analyzer.analyze_face(images[0], "warm-up")
    totals, steps, results = [], {}, []
    for f, image in zip(frames, images):
        t = time.perf_counter()
        r = analyzer.analyze_face(image, str(f))
        totals.append(time.perf_counter() - t)
        results.append(r)
        for k, v in r.seconds.items():
            steps.setdefault(k, []).append(v)
    out["warm"] = {
        "median": float(np.median(totals)),
        "p90": float(np.percentile(totals, 90)),
        "steps": {k: float(np.median(v)) for k, v in steps.items()},
    }

    # baseline heatmap: pytorch-grad-cam on the same faces
    from acglab.explain.explanation import face_tensor
    from acglab.explain.gradcam import FakeLogit, gradcam_map, gradcam_target_layer

    t = time.perf_counter()
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import BinaryClassifierOutputTarget

    import_gc = time.perf_counter() - t
    model = analyzer.model
    layer = gradcam_target_layer(model)[1]
    xs = [face_tensor(r.explanation.face, int(model.config["img_size"]), model.normalization)[None] for r in results]
    ours, theirs, diffs = [], [], []
    for x in xs:
        t = time.perf_counter()
        a = gradcam_map(model, x, layer, target="fake")
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        with torch.enable_grad(), GradCAM(model=FakeLogit(model), target_layers=[layer]) as cam:
            cam.compute_input_gradient = True
            b = cam(input_tensor=x, targets=[BinaryClassifierOutputTarget(1)])[0]
        theirs.append(time.perf_counter() - t)
        diffs.append(float(np.abs(a - b).max()))
    out["gradcam"] = {
        "ours": float(np.median(ours)),
        "pytorch_grad_cam": float(np.median(theirs)),
        "pytorch_grad_cam_import": import_gc,
        "max_abs_difference": max(diffs),
    }

    # 3. the report
    from acglab.app.report import chromium, report_html, write_pdf

    t = time.perf_counter()
    report_html(results[:1], analyzer.card, analyzer.reference)
    html_s = time.perf_counter() - t
    t = time.perf_counter()
    page = report_html(results[:1], analyzer.card, analyzer.reference, interactive=False)
    static_s = time.perf_counter() - t
    pdf_s = None
    if chromium():
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            write_pdf(Path(tmp) / "r.pdf", page)
            pdf_s = time.perf_counter() - t
    out["report"] = {"html": html_s, "static_html": static_s, "pdf": pdf_s}

    print(
        f"{out['machine']}, torch threads {torch.get_num_threads()}, {len(frames)} full frames, "
        f"load average {out['load_average']:.2f} before, {out['load_average_after']:.2f} after the cold starts"
    )
    print(
        f"cold start `acglab analyze --no-latent`: {out['cold']['analyze']:.2f} s (median of {args.repeats}; "
        "steps " + ", ".join(f"{k} {v:.2f} s" for k, v in cold_steps.items()) + "); "
        f"first analysis of the checkpoint (export written) {first:.2f} s"
    )
    print("imports alone: " + ", ".join(f"{m} {s:.2f} s" for m, s in floor.items()))
    print(f"model and reference map loaded in {out['load_seconds']:.2f} s")
    print(
        f"one face, model loaded: median {out['warm']['median']:.3f} s, p90 {out['warm']['p90']:.3f} s; steps: "
        + ", ".join(f"{k} {v:.3f} s" for k, v in out["warm"]["steps"].items())
    )
    g = out["gradcam"]
    print(
        f"Grad-CAM per face: ours {g['ours'] * 1000:.0f} ms, pytorch-grad-cam {g['pytorch_grad_cam'] * 1000:.0f} ms "
        f"(ratio {g['pytorch_grad_cam'] / g['ours']:.2f}x; its import {g['pytorch_grad_cam_import']:.2f} s); "
        f"max |difference| {g['max_abs_difference']:.1e}"
    )
    r = out["report"]
    print(
        f"report: HTML {r['html']:.2f} s, static HTML {r['static_html']:.2f} s, PDF "
        + (f"{r['pdf']:.2f} s" if r["pdf"] is not None else "n/a (no chromium)")
    )
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
