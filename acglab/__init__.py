"""acglab: the geometry of deepfakes.

Importing acglab before torch sets ``OMP_WAIT_POLICY=PASSIVE`` unless it is already set: idle
OpenMP threads then sleep instead of spinning. On a laptop or a shared machine whose cores are
busy with other work, spinning threads make small training steps on the CPU several times
slower (``benchmarks/RESULTS.md``, training speed). Set
``OMP_WAIT_POLICY=ACTIVE`` yourself to keep OpenMP's default on a dedicated machine.
"""

import os as _os

_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
