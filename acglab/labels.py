"""Class labels shared by every layer: 1 = real, 0 = fake (see :mod:`acglab.data.samples`)."""

REAL, FAKE = 1, 0
