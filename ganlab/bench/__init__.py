"""Benchmarks: `python -m ganlab bench NAME [--json]`.

Each benchmark module defines `add_arguments(parser)` and `run(args) -> dict`
(the figures) and `table(result) -> str`; this module wires them into the CLI.
`run` checks its options first with the helpers below (`int_list`, `at_least`,
`positive_seconds`, `choices`): a bad option is a ConfigError (exit 2, one line) before
any work starts, never a traceback minutes in.
Benchmarks print figures measured side by side with a baseline in the same run:
compare ratios, not absolute times (these machines are noisy).
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
from typing import Iterable

from ganlab.errors import ConfigError

# name -> module path; modules are imported only when their bench runs.
BENCHES: dict[str, tuple[str, str]] = {
    "toy": ("ganlab.bench.toy", "toy GANs: quality over seeds and trainer speed vs the textbook loop"),
    "lab": ("ganlab.bench.lab", "latent lab: steps/s of 1 vs k side-by-side runs"),
    "mnist": ("ganlab.bench.mnist", "image GANs: speed vs the textbook loop and quality metrics"),
    "pretrained": ("ganlab.bench.pretrained", "progressive GANs: generation time per image"),
    "folder": ("ganlab.bench.folder", "RaLSGAN DCGAN on a synthetic image folder: img/s at 64 and 128 px"),
}


def add_bench_parsers(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="bench", required=True)
    for name, (module, help_) in BENCHES.items():
        p = sub.add_parser(name, help=help_)
        p.add_argument("--json", action="store_true", help="print one JSON object of the figures")
        p.set_defaults(func=_run, bench_module=module)
        try:
            importlib.import_module(module).add_arguments(p)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            p.set_defaults(func=_missing)


def _missing(args: argparse.Namespace) -> int:
    from ganlab.errors import GanlabError

    raise GanlabError(f"bench {args.bench!r} is not available in this version")


def _run(args: argparse.Namespace) -> int:
    mod = importlib.import_module(args.bench_module)
    result = mod.run(args)
    print(json.dumps(result) if args.json else mod.table(result))
    return 0


def int_list(text: str, flag: str, minimum: int = 0, example: str = "0,1,2") -> list[int]:
    """A comma-separated option ("0,1,2") -> its integers; ConfigError naming `flag` when an
    item is not an integer, is below `minimum`, or there is none. Empty items ("1,,2") are skipped."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    try:
        values = [int(t) for t in items]
    except ValueError:
        values = []
    if not values:
        raise ConfigError(f"{flag} takes comma-separated integers such as {example}; got {text!r}")
    low = [v for v in values if v < minimum]
    if low:
        raise ConfigError(f"{flag} values must be at least {minimum}; got {low[0]}")
    return values


def at_least(value: int, flag: str, minimum: int = 1) -> None:
    """ConfigError unless `value` (a count: runs, steps, rounds, threads) is at least `minimum`."""
    if value < minimum:
        raise ConfigError(f"{flag} must be at least {minimum}; got {value}")


def positive_seconds(value: float, flag: str) -> None:
    """ConfigError unless `value` is a finite number of seconds above 0 (a budget of 0 means "no
    limit" to the training loop, and inf never ends)."""
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{flag} must be a number of seconds above 0; got {value:g}")


def choices(text: str, flag: str, valid: Iterable[str]) -> list[str]:
    """A comma-separated option ("karras,zoo") -> its names; ConfigError listing the valid
    names when one is unknown or none is given."""
    valid = list(valid)
    names = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [n for n in names if n not in valid]
    if unknown or not names:
        what = f"{flag} {unknown[0]!r} is not known" if unknown else f"{flag} is empty"
        raise ConfigError(f"{what}; use comma-separated names from {', '.join(valid)}")
    return names


def format_table(rows: list[dict], columns: list[str] | None = None) -> str:
    """A plain fixed-width table of dict rows."""
    if not rows:
        return "(no rows)"
    cols = columns or list(rows[0])
    cells = [[_fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths))
    sep = "  ".join("-" * w for w in widths)
    body = "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells)
    return f"{line}\n{sep}\n{body}"


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.3e}"
    return str(v)
