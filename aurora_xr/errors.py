"""The aurora_xr error hierarchy.

Every public entry point raises a subclass of :class:`AuroraXrError` for bad
input, with a message that says what was expected and what was found, so that
callers can catch precisely what they can handle.
"""

from __future__ import annotations

__all__ = [
    "AuroraXrError",
    "AuroraXrWarning",
    "CalibrationError",
    "CellLayoutError",
    "CheckpointError",
    "DateRangeError",
    "DtypeError",
    "FrameSizeError",
    "ImageFileError",
    "IngestError",
    "LabelError",
    "MissingCalibrationError",
    "MissingDimensionError",
    "MissingVariableError",
    "ModelError",
    "NoFilesFoundError",
    "OptionError",
    "SchemaError",
    "StationError",
    "TimeOrderError",
    "WeightsNotFoundError",
]


class AuroraXrError(Exception):
    """Base class of every error raised by aurora_xr for bad input."""


class SchemaError(AuroraXrError, ValueError):
    """A dataset does not follow the aurora_xr data model."""


class MissingDimensionError(SchemaError):
    """A required dimension is absent."""


class MissingVariableError(SchemaError, KeyError):
    """A required variable or coordinate is absent."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DtypeError(SchemaError, TypeError):
    """A variable has the wrong data type."""


class LabelError(SchemaError):
    """A label file is malformed, or does not fit its image (the message names the file)."""


class TimeOrderError(SchemaError):
    """Times are unsorted or duplicated."""


class FrameSizeError(SchemaError):
    """Frames have another size than expected (or than the calibration)."""


class CalibrationError(AuroraXrError, ValueError):
    """A camera calibration is invalid."""


class MissingCalibrationError(CalibrationError, SchemaError):
    """A dataset carries no camera calibration."""


class DateRangeError(AuroraXrError, ValueError):
    """A date lies outside the range a model (e.g. AACGM-v2) is valid for."""


class CellLayoutError(AuroraXrError, ValueError):
    """An equal-area cell grid cannot be laid out with the given options."""


class ModelError(AuroraXrError):
    """A segmentation model cannot be built or used."""


class CheckpointError(ModelError, ValueError):
    """A checkpoint is unreadable, unsafe or of another architecture."""


class WeightsNotFoundError(ModelError, FileNotFoundError):
    """Pretrained weights are not available locally (no download is attempted)."""


class IngestError(AuroraXrError):
    """Ingest cannot proceed at all (a single bad frame is reported, not raised)."""


class OptionError(AuroraXrError, ValueError):
    """An option has an invalid value."""


class StationError(AuroraXrError, KeyError):
    """An unknown station code."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class NoFilesFoundError(AuroraXrError, FileNotFoundError):
    """No file matched a path, a glob pattern or a folder."""


class ImageFileError(AuroraXrError, OSError):
    """An image file cannot be used; the message is the reason."""


class AuroraXrWarning(UserWarning):
    """Base class of the warnings aurora_xr issues (e.g. map data missing offline)."""
