"""Exception types for errors a user can cause.

Every error a user can trigger (bad path, wrong layout, corrupt image, leaky split, bad
checksum, wrong checkpoint) raises a subclass of :class:`AcglabError` whose message says what
is wrong and what to do. The CLI prints that message on one line and exits non-zero.
"""


class AcglabError(Exception):
    """Base class of all user-facing errors; ``str(err)`` is a one-line message."""

    exit_code = 2


class DataLayoutError(AcglabError):
    """A dataset folder does not have the expected layout (names what is missing)."""


class ImageError(AcglabError):
    """An image or video file cannot be read or holds no usable content."""


class NoFaceError(ImageError):
    """No face was found in an image where one was required."""


class SplitError(AcglabError):
    """A split file is malformed or names videos the dataset does not have."""


class SplitLeakageError(SplitError):
    """A split shares videos or target identities between its parts."""


class ChecksumError(AcglabError):
    """A downloaded file does not match its manifest (size or sha256)."""


class CheckpointError(AcglabError):
    """A checkpoint is corrupt or belongs to another architecture."""
