"""acglab: the geometry of deepfakes."""
__version__ = "0.1.0"
