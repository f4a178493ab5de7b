"""Can a training part train a model? (:func:`check_training_table`)"""

from __future__ import annotations

from acglab.data.samples import FAKE, REAL, SampleTable
from acglab.data.selection import require_images
from acglab.errors import DataLayoutError


def check_training_table(table: SampleTable, arch: str, synth_augment: bool = False) -> None:
    """The training part can train ``arch``; else :class:`DataLayoutError` saying why.

    - at least one real sample unless ``arch == "backbone"``: the reconstruction loss
      L_r (thesis eq. 2.5) averages over real samples and is undefined without any;
    - both classes, unless ``synth_augment`` makes fakes from the real faces.
    """
    require_images(table, "train")
    labels = set(table.labels)
    if REAL not in labels and arch != "backbone":
        raise DataLayoutError(
            f"the train part holds no real face, so the reconstruction loss L_r of arch {arch!r} is undefined; "
            "add real videos to the train part or use --arch backbone"
        )
    if labels != {REAL, FAKE} and not (synth_augment and REAL in labels):
        only = "real" if REAL in labels else "fake"
        raise DataLayoutError(
            f"the train part holds only {only} faces; a detector needs both real and fake training faces "
            "(or --synth-augment to make fakes from real faces)"
        )
