"""New settings for a live run: applied in place when every change may change live
(`ganlab.config.LIVE_FIELDS`), else a new run (or a note that one is needed)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Collection

from ganlab.config import LIVE_FIELDS, Config
from ganlab.errors import GanlabError
from ui.runner import Runner


@dataclass
class Applied:
    """What `apply_settings` did. action: "same" (nothing changed), "updated" (live
    changes applied from the next step), "reset" (a new run), "pending" (changes
    that need a new run, not made: `pending` names them). error: why the run goes on
    with its previous settings, or None."""

    action: str
    pending: list[str] = field(default_factory=list)
    error: str | None = None


def apply_settings(runner: Runner[Any], cfg: Config, build: Callable[[], Any], *, reset: bool,
                   restart: bool = False, ignore: Collection[str] = ()) -> Applied:
    """Bring the runner's model (anything with `cfg` and `update(**changes)`) to cfg.

    Changes of fields in `ignore` are not looked at. restart: build a new run
    whatever changed. reset: build a new run when a change cannot apply live
    (else report it as pending and keep the run). A GanlabError from building or
    updating leaves the run as it was and is reported in `error`.
    """
    with runner.hold() as model:
        running = model.cfg
    changes = {k: v for k, v in cfg.diff(running).items() if k not in ignore}
    pending = sorted(k for k in changes if k not in LIVE_FIELDS)
    try:
        if restart or (pending and reset):
            runner.reset(build())
            return Applied("reset")
        if pending:
            return Applied("pending", pending)
        if changes:
            with runner.hold() as model:
                model.update(**changes)  # applies from the next step
            return Applied("updated")
    except GanlabError as exc:
        return Applied("pending" if pending else "same", pending,
                       f"{exc} (the run goes on with the previous settings)")
    return Applied("same")
