"""Face-forgery data: loaders, splits, face extraction, fetching and the offline default set."""

from acglab.data.default import DataChoice, default_data
from acglab.data.layouts import detect_layout, load_dataset, official_partition
from acglab.data.samples import FAKE, REAL, Sample, SampleTable
from acglab.data.splits import (
    SPLIT_KINDS,
    LeakageReport,
    Split,
    check_split,
    load_split,
    make_split,
    official_split,
    require_clean_split,
    save_split,
    split_by_group,
    split_by_identity,
    split_by_target,
    split_by_video,
)

__all__ = [
    "DataChoice",
    "default_data",
    "FAKE",
    "REAL",
    "SPLIT_KINDS",
    "LeakageReport",
    "Sample",
    "SampleTable",
    "Split",
    "check_split",
    "detect_layout",
    "load_dataset",
    "load_split",
    "make_split",
    "official_partition",
    "official_split",
    "require_clean_split",
    "save_split",
    "split_by_group",
    "split_by_identity",
    "split_by_target",
    "split_by_video",
]
