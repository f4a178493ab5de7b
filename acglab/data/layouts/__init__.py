"""Loaders for the folder layouts of face-forgery datasets; each returns a :class:`SampleTable`.

``load_dataset(path)`` detects the layout (the offline face set, Celeb-DF v2 videos or frames,
WildDeepfake, FaceForensics++, generic real/fake folders); ``official_partition(path)`` gives
the published train/val/test assignment where the dataset has one. A layout module exposes
``looks_like(root)``, ``load(root)`` and ``official_partition(root, table)``.
"""

from acglab.data.layouts.detect import LAYOUTS, detect_layout, layout_module, load_dataset, official_partition

__all__ = ["LAYOUTS", "detect_layout", "layout_module", "load_dataset", "official_partition"]
