"""Projector mode: big type and the main view above the fold, for a class on a projector.

A toggle in the sidebar (`toggle`, drawn by the router `app.py` on every page) turns
it on; the URL keeps it (`?projector=1`), so a prepared link opens in it. On, `style`
hides the sidebar and the toolbar, sets the base font to 21 px (Streamlit's smallest
text, 0.875 rem, is then 18 px), trims the top padding, and pins a small "Exit
projector mode" button to the top right corner; `live_plot` enlarges the charts'
fonts (`big_fonts`).
"""
from __future__ import annotations

import copy
from typing import Any

import streamlit as st

PARAM = "projector"
KEY = "projector.on"
EXIT_KEY = "projector_exit"
BASE_FONT_PX = 21
PLOT_FONT_PX = 18

CSS = f"""
<style>
html {{ font-size: {BASE_FONT_PX}px; }}
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], header[data-testid="stHeader"] {{ display: none !important; }}
.block-container, [data-testid="stMainBlockContainer"] {{ padding-top: 0.6rem !important;
    padding-bottom: 1rem !important; max-width: 100% !important; }}
h1 {{ font-size: 1.6rem !important; padding: 0 0 0.2rem 0 !important; }}
.st-key-{EXIT_KEY} {{ position: fixed; top: 6px; right: 12px; z-index: 1000; width: auto !important; }}
</style>
"""


# Off, only Streamlit's 6 rem top padding is trimmed, so that a laptop's 720 px show the
# first controls and the top of the page's main view.
DESK_CSS = """
<style>
.block-container, [data-testid="stMainBlockContainer"] { padding-top: 3rem !important; }
</style>
"""


def is_on() -> bool:
    """Whether this session shows the projector mode."""
    return bool(st.session_state.get(KEY, False))


def _exit() -> None:
    st.session_state[KEY] = False


def toggle() -> None:
    """The router's part, before the page runs: the URL's choice on arrival, the toggle
    in the sidebar, and, when on, the style and the exit button."""
    if KEY not in st.session_state:
        st.session_state[KEY] = st.query_params.get(PARAM) == "1"
    st.sidebar.toggle("Projector mode", key=KEY,
                      help="big type, no sidebar, the main view filling the screen; kept in the URL")
    if is_on():
        st.html(CSS)
        st.button("Exit projector mode", key=EXIT_KEY, on_click=_exit, icon=":material/close_fullscreen:")
    else:
        st.html(DESK_CSS)


def keep_in_url() -> None:
    """The router's part after the page ran: pages rewrite their URL from their settings,
    so the mode is put back (or taken out) here."""
    if is_on() and st.query_params.get(PARAM) != "1":
        st.query_params[PARAM] = "1"
    elif not is_on() and PARAM in st.query_params:
        del st.query_params[PARAM]


def big_fonts(figure: dict[str, Any]) -> dict[str, Any]:
    """A copy of a Plotly spec with every font at least PLOT_FONT_PX (layout, titles, annotations)."""
    fig = copy.copy(figure)
    layout = dict(fig.get("layout", {}))
    layout["font"] = {**layout.get("font", {}), "size": max(PLOT_FONT_PX, layout.get("font", {}).get("size", 0))}
    title = layout.get("title")
    if isinstance(title, dict):  # e.g. the views' "step N", sized 13 px for a desk
        layout["title"] = {**title, "font": {**title.get("font", {}), "size": PLOT_FONT_PX}}
    if "annotations" in layout:
        layout["annotations"] = [{**a, "font": {**a.get("font", {}), "size": PLOT_FONT_PX}}
                                 for a in layout["annotations"]]
    fig["layout"] = layout
    return fig
