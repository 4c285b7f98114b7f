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


class OfflineError(DataError):
    """A download failed because no server could be reached at all (no network, no DNS):
    the message says so and where to put a copy fetched elsewhere. reasons: each address's
    failure in words (e.g. "[Errno -3] Temporary failure in name resolution")."""

    def __init__(self, message: str, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reasons = tuple(reasons)


class CheckpointError(GanlabError):
    """A checkpoint or run directory cannot be read safely."""


class DivergenceError(GanlabError):
    """Training produced a non-finite loss or gradient; the last good state is kept."""

    def __init__(self, message: str, step: int) -> None:
        super().__init__(message)
        self.step = step
