"""Face-forgery data: loaders, splits, face extraction, fetching and the offline default set."""
from acglab.data.samples import FAKE, REAL, Sample, SampleTable

__all__ = ["FAKE", "REAL", "Sample", "SampleTable"]
