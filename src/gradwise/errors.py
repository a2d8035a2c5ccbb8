"""Exceptions gradwise raises. Each message names the thing, the rule, the value and a fix."""

from __future__ import annotations


class GradwiseError(Exception):
    """Base class of every error gradwise raises on purpose."""


class DataError(GradwiseError, ValueError):
    """A data file or array is malformed: wrong magic number, truncated, bad labels, NaN..."""


class ModelFileError(GradwiseError, ValueError):
    """A saved model cannot be read: missing, corrupt, or written by an incompatible version."""
