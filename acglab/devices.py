"""Which torch device to run on: one resolver for the command line, training, OT and notebooks."""

from __future__ import annotations

from acglab.errors import AcglabError


def resolve_device(name=None, local_rank: int = 0, mps: bool = False):
    """The ``torch.device`` that ``name`` asks for.

    ``None`` or ``"auto"``: CUDA (``cuda:LOCAL_RANK``) when a GPU is available, else Apple's MPS
    when ``mps`` is set and it is available, else the CPU. ``"cpu"``, ``"mps"``, ``"cuda"`` and
    ``"cuda:N"`` (or a ``torch.device``) as given, ``"cuda"`` meaning ``cuda:LOCAL_RANK``.

    Raises :class:`AcglabError` for an unknown name or a CUDA device where none is available.
    """
    import torch

    name = "auto" if name is None else str(name)
    if name == "auto":
        backend = getattr(torch.backends, "mps", None)
        if torch.cuda.is_available():
            name = "cuda"
        elif mps and backend is not None and backend.is_available():
            name = "mps"
        else:
            name = "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise AcglabError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise AcglabError(f"device {name!r} asked for but no CUDA GPU is available; use cpu")
        if device.index is None:
            device = torch.device("cuda", local_rank)
    return device
