"""``acglab explain``: the verdict on one image, with a Grad-CAM heatmap and the reconstruction
residual map, written to a folder (see :mod:`acglab.explain`)."""

from __future__ import annotations

import argparse
from pathlib import Path

#: the classes a heatmap can explain (as :data:`acglab.explain.gradcam.GRADCAM_TARGETS`; kept
#: here so that building the parser does not import torch)
GRADCAM_TARGETS = ("fake", "real", "verdict")


def register(sub) -> None:
    p = sub.add_parser("explain", help="verdict on one image with Grad-CAM and reconstruction residual maps")
    p.add_argument("image", metavar="IMAGE", help="an image showing a face (a face crop or a larger picture)")
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="checkpoint written by `acglab train`")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for verdict.json, maps and figures")
    p.add_argument(
        "--face-crop",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="detect and crop the face (default: only when the image is not a face crop already); "
        "--no-face-crop uses the image as it is",
    )
    p.add_argument(
        "--target",
        choices=GRADCAM_TARGETS,
        default="verdict",
        help="class the Grad-CAM heatmap explains (default: the verdict)",
    )
    p.add_argument("--device", default="auto", metavar="auto|cpu|cuda", help="where the model runs (default auto)")
    p.set_defaults(func=handle_explain)


def handle_explain(args) -> int:
    from acglab.data.images import load_image
    from acglab.devices import resolve_device
    from acglab.explain.explanation import explain_image, save_explanation
    from acglab.models.checkpoint import model_from_checkpoint

    device = resolve_device(args.device)
    pixels = load_image(args.image)
    model = model_from_checkpoint(args.checkpoint, map_location="cpu")
    expl = explain_image(
        pixels, model, face_crop=args.face_crop, device=device, gradcam_target=args.target, what=str(args.image)
    )
    info = {"image": str(Path(args.image)), "checkpoint": str(Path(args.checkpoint))}
    save_explanation(expl, args.out, info)
    print(f"{args.image}: {expl.verdict} (P(fake) = {expl.p_fake:.3f}) -> {args.out}")
    return 0
