"""The error raised for model settings a user can get wrong (unknown backbone, bad option)."""
from __future__ import annotations

from acglab.errors import AcglabError


class ModelConfigError(AcglabError, ValueError):
    """A model setting that cannot be built: unknown architecture, backbone or option."""
