"""Semantic face editing, the thesis' title task: replace, delete, modify and synthesize face
content, on photos through 68-landmark face parts (:mod:`acglab.faces.parts`,
:mod:`acglab.edit.geometric`) and in a latent model's code space along directions found with or
without labels (:mod:`acglab.edit.latent`)."""

from acglab.edit.geometric import (
    OPS,
    EditResult,
    changed_outside,
    delete_part,
    modify_part,
    replace_part,
    synthesize_face,
)
from acglab.faces.parts import PARTS, PartError, part_mask, part_polygons

__all__ = [
    "OPS",
    "PARTS",
    "EditResult",
    "PartError",
    "changed_outside",
    "delete_part",
    "modify_part",
    "part_mask",
    "part_polygons",
    "replace_part",
    "synthesize_face",
]
