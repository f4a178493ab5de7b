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


class LatentEditError(AcglabError, ValueError):
    """Codes, directions or labels that do not fit together."""


class ScoreError(AcglabError, ValueError):
    """Labels and scores that cannot be evaluated (shape, NaN, labels outside {0, 1})."""


class ReportError(AcglabError):
    """The report cannot be written (e.g. no PDF renderer)."""


class LossInputError(AcglabError, ValueError):
    """Labels or model outputs a loss cannot work with (wrong shape, values other than 0/1)."""


class OTInputError(AcglabError, ValueError):
    """Targets or weights that do not define a semi-discrete OT problem."""


class ModelConfigError(AcglabError, ValueError):
    """A model setting that cannot be built: unknown architecture, backbone or option."""


class DigitsAutoencoderError(AcglabError, ValueError):
    """A setting or an input the digits autoencoder cannot work with."""


class FetchError(AcglabError):
    """Files of a manifest could not be downloaded (absent on the server, or unreachable)."""


class SourceMissing(Exception):
    """The source does not have the file (HTTP 404 or another 4xx, or absent from a folder)."""


class SourceUnreachable(Exception):
    """The source kept failing (connection errors, time-outs, 5xx) after all retries."""


class TopologyInputError(AcglabError, ValueError):
    """A point cloud, image, diagram or parameter the topology tools cannot work with."""


class TheoryInputError(AcglabError, ValueError):
    """Arguments that do not define the requested density, divergence or model."""


class NotebookSettingError(AcglabError, ValueError):
    """An environment setting read by the notebooks has a value they do not understand."""


class PartError(AcglabError, ValueError):
    """An unknown part name or landmarks that do not describe a face."""


class LandmarkModelError(AcglabError):
    """dlib or its 68-point landmark predictor is not installed or cannot be loaded."""
