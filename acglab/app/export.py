"""A detector exported for analysis: two TorchScript pieces that run without timm.

Building a detector from its checkpoint needs timm, whose import (with torchvision, which it
imports, and torch's compiler stack, which torchvision imports) costs more than torch itself.
An analysis needs only the trained network's function, so the first analysis of a checkpoint
traces it (:func:`torch.jit.trace`) and keeps the trace in one file in the user's cache
folder (:func:`export_path`); later analyses load that file and import neither timm nor torchvision.

Grad-CAM (:mod:`acglab.explain.gradcam`) needs the gradient of the logit with respect to the
activation A of one layer, so the network is traced as two pieces (two methods of one frozen
TorchScript module):

- ``target``: image x -> A, the output of the Grad-CAM layer;
- ``rest``: (x, A) -> (logit, reconstruction, pooled features), the whole network with the
  layer's output replaced by A (parts that read earlier layers, such as the decoder of an ACG
  model, still read them from x).

:class:`ExportedDetector` puts them back together as a module whose output has the
``logits``, ``recon`` and ``features`` of the detector's own output and whose ``gradcam_layer``
is the ``target`` piece, so :func:`acglab.explain.explanation.explain_image` computes the
verdict, the residual and Grad-CAM with it exactly as with the detector (the tests compare the
two).

The file is a TorchScript archive whose extra file ``acglab.json`` holds the format, the
checkpoint's SHA-256, the torch version that wrote it, the model's config, normalisation and
Grad-CAM layer name, and what the detector card shows (training state, calibration). A file
made for another checkpoint or by another torch version, or one that cannot be read, is
ignored and written again; it is written atomically. An export is kept only when it reproduces
the detector's logit, reconstruction, features and Grad-CAM on a test input.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

FORMAT = "acglab-detector-export/1"
#: the TorchScript archive's extra file holding the description (module notes)
META = "acglab.json"
#: the traced outputs, in order (``recon`` is absent for a model without autoencoder)
OUTPUTS = ("logits", "recon", "features")
#: largest difference between the export and the detector on the test input
TOLERANCE = 1e-4


def export_path(checkpoint, sha256: str) -> Path:
    """Where the export of a checkpoint is kept: in this user's cache folder, named by the
    checkpoint's SHA-256 (``CACHE/detector-exports/<sha256>.pt``). Not beside the checkpoint: a
    file dropped into a shared run folder is never what an analysis runs."""
    from acglab.paths import cache_dir

    return cache_dir() / "detector-exports" / f"{sha256}.pt"


def _layer_output(output) -> torch.Tensor:
    if not torch.is_tensor(output):
        raise TypeError(f"the Grad-CAM layer returns a {type(output).__name__}, not a tensor")
    return output


def _outputs(out) -> tuple[torch.Tensor, ...]:
    logits = out.logits if hasattr(out, "logits") else out
    found = (logits, getattr(out, "recon", None), getattr(out, "features", None))
    return tuple(t for t in found if t is not None)


class _Split(nn.Module):
    """``model`` as the two pieces that are traced: ``forward(x)`` returns the output A of
    ``layer`` (the rest of the network is traced away), ``rest(x, A)`` the model's outputs with
    ``layer``'s output replaced by A."""

    def __init__(self, model: nn.Module, layer: nn.Module):
        super().__init__()
        self.model = model
        self._layer = [layer]  # a list: not a second registration of the submodule

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seen = []
        handle = self._layer[0].register_forward_hook(lambda module, inputs, output: seen.append(output))
        try:
            self.model(x)
        finally:
            handle.remove()
        return _layer_output(seen[0])

    def rest(self, x: torch.Tensor, activation: torch.Tensor) -> tuple[torch.Tensor, ...]:
        handle = self._layer[0].register_forward_hook(lambda module, inputs, output: activation)
        try:
            out = self.model(x)
        finally:
            handle.remove()
        return _outputs(out)


class _Piece(nn.Module):
    """A TorchScript method called from Python (so that forward hooks see its output), run by
    the plain interpreter: one analysis gains nothing from graph optimisation, and its autograd
    is then eager autograd, op by op."""

    def __init__(self, method):
        super().__init__()
        self._method = [method]

    def forward(self, *args):
        with torch.jit.optimized_execution(False):
            return self._method[0](*args)


class DetectorOutput:
    """What :class:`ExportedDetector` returns: ``logits`` (B,), ``recon`` (B, 3, H, W) or
    ``None``, ``features`` (B, D)."""

    def __init__(self, logits, recon, features):
        self.logits, self.recon, self.features = logits, recon, features


class ExportedDetector(nn.Module):
    """A detector rebuilt from its export (module notes).

    ``script``: the frozen TorchScript module (``forward`` is the ``target`` piece, ``rest`` the
    other). Attributes: ``config`` and ``normalization`` as the detector's, ``gradcam_layer``
    (the ``target`` piece, which Grad-CAM reads), ``gradcam_layer_name`` (the layer's name in
    the detector) and ``meta`` (the file's description).
    """

    def __init__(self, script, meta: dict):
        super().__init__()
        from acglab.models.outputs import Normalization

        self.script = script
        self.target = _Piece(script)
        self.rest = _Piece(script.rest)
        self.meta = dict(meta)
        self.config = dict(meta["config"])
        norm = meta["normalization"]
        self.normalization = Normalization(tuple(norm["mean"]), tuple(norm["std"]))
        self.gradcam_layer = self.target
        self.gradcam_layer_name = meta["gradcam_layer"]
        self.outputs = tuple(meta["outputs"])
        self.eval()

    def forward(self, x: torch.Tensor) -> DetectorOutput:
        found = dict(zip(self.outputs, self.rest(x, self.target(x))))
        return DetectorOutput(found["logits"], found.get("recon"), found.get("features"))


def _meta_of(model: nn.Module, layer_name: str, outputs, sha256: str, card: dict) -> dict:
    from acglab.explain.residual import normalization_stats

    mean, std = normalization_stats(model.normalization)
    meta = {
        "format": FORMAT,
        "checkpoint_sha256": sha256,
        "torch": torch.__version__,
        "config": dict(model.config),
        "normalization": {"mean": mean.tolist(), "std": std.tolist()},
        "gradcam_layer": layer_name,
        "outputs": list(outputs),
        "card": dict(card),
    }
    # as it is read back from the file (tensors in the training state become lists)
    return json.loads(json.dumps(meta, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)))


def probe_input(img_size: int) -> torch.Tensor:
    """The fixed input an export is traced and checked on: (1, 3, S, S) standard normal values."""
    generator = torch.Generator().manual_seed(0)
    return torch.randn(1, 3, int(img_size), int(img_size), generator=generator)


def trace_detector(model: nn.Module, sha256: str = "", card: dict | None = None) -> ExportedDetector:
    """Trace ``model`` (a detector on the CPU, put in eval mode) into an :class:`ExportedDetector`.

    The two pieces are traced as two methods of one module, which is then frozen: its weights
    become constants of one inlined graph per method (no graph optimisation is run, so the
    arithmetic is the detector's), which loads several times faster than the module tree.
    Raises ``TypeError``, ``RuntimeError`` or ``ValueError`` when it cannot be traced.
    """
    import warnings

    from torch.jit import RecursiveScriptModule

    from acglab.explain.gradcam import gradcam_target_layer

    model.eval()
    layer_name, layer = gradcam_target_layer(model)
    x = probe_input(model.config["img_size"])
    split = _Split(model, layer).eval()
    with torch.no_grad():
        activation = split(x)
        out = model(x)
        outputs = ["logits"] + [name for name in OUTPUTS[1:] if getattr(out, name, None) is not None]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python values taken as constants
            traced = torch.jit.trace_module(split, {"forward": (x,), "rest": (x, activation)}, check_trace=False)
    frozen = RecursiveScriptModule(torch._C._freeze_module(traced._c, ["rest"]))
    RecursiveScriptModule._finalize_scriptmodule(frozen)
    meta = _meta_of(model, layer_name, outputs, sha256, card or {})
    return ExportedDetector(frozen, meta)


def agrees(exported: ExportedDetector, model: nn.Module, tolerance: float = TOLERANCE) -> bool:
    """Whether ``exported`` gives ``model``'s outputs and Grad-CAM maps on :func:`probe_input`."""
    from acglab.explain.gradcam import gradcam_map, gradcam_target_layer

    x = probe_input(model.config["img_size"])
    with torch.no_grad():
        ours, theirs = exported(x), model(x)
    for name in OUTPUTS:
        a, b = getattr(ours, name, None), getattr(theirs, name, None)
        if (a is None) != (b is None):
            return False
        if a is not None and (a.shape != b.shape or float((a - b).abs().max()) > tolerance):
            return False
    layer = gradcam_target_layer(model)[1]
    for target in ("fake", "real"):
        cam = gradcam_map(exported, x, exported.gradcam_layer, target=target)
        if float(np.abs(cam - gradcam_map(model, x, layer, target=target)).max()) > tolerance:
            return False
    return True


def save_export(exported: ExportedDetector, path) -> Path:
    """Write ``exported`` to ``path`` atomically (one TorchScript archive, module notes)."""
    import warnings

    from acglab.fileio import atomic_write

    extra = {META: json.dumps(exported.meta)}

    def write(tmp):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit.save's notice that torch.export exists
            torch.jit.save(exported.script, str(tmp), _extra_files=extra)

    return atomic_write(path, write)


def load_export(path, sha256: str) -> ExportedDetector | None:
    """The export at ``path`` if it can be read, was made for the checkpoint with this hash and by
    this torch version; else ``None``."""
    import warnings

    path = Path(path)
    if not path.is_file():
        return None
    extra = {META: ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load's notice that torch.export exists
            script = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
        meta = json.loads(extra[META])
    except Exception:  # truncated or corrupt archive, not TorchScript, bad JSON: rebuilt
        return None
    if (
        not isinstance(meta, dict)
        or meta.get("format") != FORMAT
        or meta.get("checkpoint_sha256") != sha256
        or meta.get("torch") != torch.__version__
    ):
        return None
    try:
        if not script._c._has_method("rest"):
            return None
        return ExportedDetector(script, meta)
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError):
        return None


def export_detector(model: nn.Module, path, sha256: str, card: dict | None = None) -> ExportedDetector | None:
    """Trace ``model``, check it (:func:`agrees`) and save it to ``path``; ``None`` when it cannot
    be traced or does not agree. A folder that cannot be written keeps the export in memory only."""
    try:
        exported = trace_detector(model, sha256, card)
        if not agrees(exported, model):
            return None
    except (TypeError, ValueError, RuntimeError, KeyError, AttributeError):
        return None
    try:
        save_export(exported, path)
    except (OSError, RuntimeError):
        pass
    return exported
