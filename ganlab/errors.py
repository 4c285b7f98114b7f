"""Errors a user can cause, each with a message that names the problem and the fix.

Everything the CLI or a page should show as a friendly message derives from
`GanlabError`; anything else is a bug and may surface as a traceback.
"""
from __future__ import annotations


class GanlabError(Exception):
    """Base class for user-facing errors (bad input, unknown names, missing files)."""


class ConfigError(GanlabError, ValueError):
    """A configuration value is unknown, malformed or out of range."""


class DataError(GanlabError):
    """A data set is missing, corrupt or malformed."""


class CheckpointError(GanlabError):
    """A checkpoint or run directory cannot be read safely."""


class DivergenceError(GanlabError):
    """Training produced a non-finite loss or gradient; the last good state is kept."""

    def __init__(self, message: str, step: int) -> None:
        super().__init__(message)
        self.step = step
