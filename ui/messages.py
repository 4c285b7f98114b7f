"""Engine messages in the pages' error boxes.

The engine words its errors for the command line's `error: <message>` line: a clause
that names the problem and the fix, without a final full stop. In a box, and with a
sentence after it ("The explorer still shows ..."), it must end as a sentence does.
"""
from __future__ import annotations

from typing import Any

import streamlit as st


def sentence(message: object) -> str:
    """`message` (an exception or text) ending with a full stop, unless it already ends with
    one or a question or exclamation mark (closing brackets, quotes and Markdown marks after
    it included). The first letter is left as it is: it is often a file or data set name."""
    text = str(message).strip()
    if not text or text.rstrip(")\"'*`").endswith((".", "!", "?")):
        return text
    return text + "."


def error_box(message: object, where: Any = None) -> None:
    """An error box (in `where`, a column or container; default the page) holding
    `sentence(message)`."""
    (where or st).error(sentence(message))
