"""Widget values that survive a visit to another page.

Streamlit forgets a widget's value when a script run does not draw it (the user
was on another page). A page calls `keep(keys)` after drawing its widgets, which
copies each value to "<key>.kept", and `restore(keys)` before drawing them, which
puts a forgotten value back. Values set by a callback or a preset are not
overwritten: `restore` only fills keys that are missing.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, MutableMapping

import streamlit as st

SUFFIX = ".kept"


def _state(state: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
    return st.session_state if state is None else state


def keep(keys: Iterable[str], state: MutableMapping[str, Any] | None = None) -> None:
    """Copy each present key's value to key + SUFFIX (state: default st.session_state)."""
    ss = _state(state)
    for key in keys:
        if key in ss:
            ss[key + SUFFIX] = ss[key]


def restore(keys: Iterable[str], state: MutableMapping[str, Any] | None = None) -> bool:
    """Put back each missing key from its kept copy; True if anything was ever kept
    for these keys (False on a session's first visit to the page)."""
    ss = _state(state)
    seen = False
    for key in keys:
        if key + SUFFIX in ss:
            seen = True
            if key not in ss:
                ss[key] = ss[key + SUFFIX]
    return seen


def restore_or(defaults: Mapping[str, Any], state: MutableMapping[str, Any] | None = None) -> None:
    """Before drawing widgets made without a `value=` (their value lives in session state):
    each missing key from its kept copy, else from `defaults`, its first value."""
    ss = _state(state)
    restore(defaults, ss)
    for key, value in defaults.items():
        ss.setdefault(key, value)
