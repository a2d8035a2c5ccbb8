"""Exceptions gradwise raises. Each message names the thing, the rule, the value and a fix."""

from __future__ import annotations


class GradwiseError(Exception):
    """Base class of every error gradwise raises on purpose."""


class DataError(GradwiseError, ValueError):
    """A data file or array is malformed: wrong magic number, truncated, bad labels, NaN..."""


class ModelFileError(GradwiseError, ValueError):
    """A saved model cannot be read: missing, corrupt, or written by an incompatible version."""


class SettingError(GradwiseError, ValueError):
    """A setting of a run (a TrainConfig field, a preset's option) is of the wrong type, out of
    range, or of no use to the run asked for.

    ``field`` names the setting as Python spells it (``batch_size``); the message reads
    ``"batch_size: must be >= 1; got 0"``, and the CLI shows the field as its flag
    (``--batch-size``).
    """

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field, self.detail = field, detail
