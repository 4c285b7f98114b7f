"""Show what ganlab will train on, before training: the same summary as `python -m ganlab data`.

For the pages' upload widgets (the playground's points upload, the studio's image
folder / zip): `summary_for_upload(name, data)` / `summary_for_path(path)` build
the engine's summary dict (`ganlab.data.summary`), and `render_data_summary`
shows it. Building raises the engine's DataError with its message; pages show
it with `st.error(str(exc))` as they do for other data errors.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from ganlab.data.summary import describe, describe_points_bytes


def summary_for_upload(name: str, data: bytes) -> dict[str, Any]:
    """The summary dict of an uploaded points file (bytes plus the name the user gave it)."""
    return describe_points_bytes(data, name)


def summary_for_path(path: str | Path, image_size: int = 0, channels: int = 0) -> dict[str, Any]:
    """The summary dict of a points file, image folder or zip on the server."""
    return describe(path, image_size=image_size, channels=channels)


def summary_lines(summary: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    """(headline, detail lines, note lines) of a summary dict; plain text, for any widget."""
    s = summary
    if s["kind"] == "points":
        head = f"{s['n']:,} points in {s['dims']}-D from {s['file']}: columns {', '.join(s['columns'])}"
        details = [f"separator: {s['separator'] or 'npy'}, decimal mark: {s['decimal']}, "
                   f"header: {'yes' if s['header'] else 'no'}, encoding: {s['encoding']}"]
    else:
        c, h, w = s["shape"]
        classes = ", ".join(f"{k} ({v})" for k, v in s["class_counts"].items()) or "none (unlabelled)"
        head = f"{s['n']:,} pictures ({'grey' if c == 1 else 'RGB'}, {h} x {w}) from {s['file']}"
        details = [f"classes: {classes}"]
        if s["unreadable"]:
            details.append(f"unreadable pictures skipped: {s['unreadable']}")
    ignored = s["ignored"]
    if ignored:
        shown = "; ".join(f"{d['name']} ({d['reason']})" for d in ignored[:10])
        details.append(f"not used: {shown}{' ...' if len(ignored) > 10 else ''}")
    return head, details, list(s["notes"])


def render_data_summary(summary: dict[str, Any], container: Any = None) -> None:
    """Show a summary dict in `container` (default: the page): a headline, details, notes as warnings."""
    where = container if container is not None else st
    head, details, notes = summary_lines(summary)
    where.success(head)
    if details:
        where.caption("  \n".join(details))
    for note in notes:
        where.warning(note)
