"""``acglab analyze``: the analysis of face images and videos by a detector checkpoint (see
:mod:`acglab.app.analysis`): verdict with a calibrated probability, Grad-CAM and residual
heatmaps, the face's place among reference faces and relative to the OT map's singular set;
JSON with the numbers. Each input is analysed on its own: one that fails is reported in one
line and the others go on; the exit status is 1 when any failed.

On the CPU the first analysis of a checkpoint writes its TorchScript export to the cache folder
under the checkpoint's SHA-256 (:mod:`acglab.app.export`); later analyses load it and need neither timm
nor torchvision, so that they start in a few seconds."""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("analyze", help="analyse face images or videos: verdict, heatmaps, latent position")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="face crops, photos or video files")
    p.add_argument(
        "--checkpoint",
        required=True,
        metavar="CKPT",
        help="detector checkpoint written by `acglab train` (on the CPU its TorchScript export is "
        "cached under its SHA-256 in ~/.cache/acglab or $ACGLAB_CACHE)",
    )
    p.add_argument("--json", metavar="OUT.json", help="write the numbers of every analysis here")
    p.add_argument("--report", metavar="OUT.html", help="write a self-contained HTML report (opens offline)")
    p.add_argument("--pdf", metavar="OUT.pdf", help="write the report as PDF too (needs Debian's chromium)")
    p.add_argument(
        "--reference",
        metavar="DATA",
        help="dataset folder whose faces form the latent map (default: the default data); the map is "
        "fitted once and cached beside the checkpoint",
    )
    p.add_argument("--no-latent", action="store_true", help="skip the latent map (faster first run)")
    p.add_argument("--frames", type=int, default=8, metavar="N", help="frames analysed per video (default 8)")
    p.add_argument("--device", default="auto", metavar="auto|cpu|cuda", help="where the model runs (default auto)")
    p.set_defaults(func=handle_analyze)


def _line(result) -> str:
    if hasattr(result, "frames"):
        return (
            f"{result.source}: {result.verdict} (video P(fake) {result.p_fake:.3f} over "
            f"{len(result.frames)} frames with a face)"
        )
    calibrated = "calibrated" if result.calibrated else "uncalibrated"
    faces = f"; largest of {result.n_faces} faces" if result.n_faces > 1 else ""
    latent = f"; latent: {result.placement.kind}" if result.placement is not None else ""
    return f"{result.source}: {result.verdict} (P(fake) {result.p_fake:.3f}, {calibrated}{faces}{latent})"


def handle_analyze(args) -> int:
    import json

    from acglab import __version__
    from acglab.app.analysis import Analyzer
    from acglab.devices import resolve_device
    from acglab.errors import AcglabError
    from acglab.fileio import write_text_atomic

    if args.frames < 1:
        raise AcglabError("--frames must be at least 1")
    for flag in ("json", "report", "pdf"):
        value = getattr(args, flag)
        if value and Path(value).is_dir():
            raise AcglabError(f"--{flag} {value} is a folder; give a file name")
    if args.pdf:
        from acglab.app.report import ReportError, chromium

        if chromium() is None:  # before any work: say it now, not after the analysis
            raise ReportError("--pdf needs Debian's chromium (apt install chromium); --report needs nothing")
    analyzer = Analyzer(args.checkpoint, device=resolve_device(args.device))
    if not args.no_latent:
        analyzer.with_reference(args.reference)
    results, failed = [], {}
    for item in args.inputs:
        try:
            result = analyzer.analyze_file(item, frames=args.frames)
        except AcglabError as err:
            failed[item] = str(err)
            print(f"acglab: error: {err}", file=sys.stderr)
            continue
        results.append(result)
        print(_line(result))
    if args.json:
        from datetime import UTC, datetime

        record = {
            "acglab": __version__,
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "detector": analyzer.card.summary(),
            "analyses": [r.summary() for r in results],
            "failed": failed,
        }
        write_text_atomic(args.json, json.dumps(record, indent=1, allow_nan=False, default=float))
    if (args.report or args.pdf) and results:
        from acglab.app.report import report_html, write_html, write_pdf

        if args.report:
            write_html(args.report, report_html(results, analyzer.card, analyzer.reference))
            print(f"report -> {args.report}")
        if args.pdf:
            write_pdf(args.pdf, report_html(results, analyzer.card, analyzer.reference, interactive=False))
            print(f"PDF -> {args.pdf}")
    return 1 if failed else 0
