"""Benchmarks: `python -m ganlab bench NAME [--json]`.

Each benchmark module defines `add_arguments(parser)` and `run(args) -> dict`
(the figures) and `table(result) -> str`; this module wires them into the CLI.
Benchmarks print figures measured side by side with a baseline in the same run:
compare ratios, not absolute times (these machines are noisy).
"""
from __future__ import annotations

import argparse
import importlib
import json

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
