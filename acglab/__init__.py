"""acglab: the geometry of deepfakes.

Importing acglab before torch sets ``OMP_WAIT_POLICY=PASSIVE`` unless it is already set: idle
OpenMP threads then sleep instead of spinning. On a laptop or a shared machine whose cores are
busy with other work, spinning threads made small training steps on the CPU up to 8 times
slower (8 quick-preset steps: 72 s spinning, 9 s passive, 2 shared cores). Set
``OMP_WAIT_POLICY=ACTIVE`` yourself to keep OpenMP's default on a dedicated machine.
"""
import os as _os

_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
