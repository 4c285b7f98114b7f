"""Make the router (`app.py`, `st.navigation`) run even when a visitor's first request
to a fresh server is a lab's URL.

Streamlit 1.67 decides per process, at its first script run, whether the app is a
pages/-folder app (v1); it drops that mode only once a script calls `st.navigation`.
A first visit straight to /Gaussian_playground would then run the page on its own,
with a sidebar reading "app" and no router (no "Home", no projector toggle), until
someone opens the home page. `take_over()` runs on the first import of `ui` (every
page imports it): when the v1 mode is on, it turns it off and reruns, so the same
URL is served through app.py. It touches one internal flag
(`PagesManager.uses_pages_directory`) and does nothing where that flag is absent.
"""
from __future__ import annotations


def take_over() -> None:
    try:
        import streamlit as st
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:  # another Streamlit layout: nothing to do
        return
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not getattr(PagesManager, "uses_pages_directory", False):
        return
    main = getattr(ctx.pages_manager, "main_script_path", "")
    if not str(main).endswith("app.py"):  # a page run as its own app (AppTest, streamlit run pages/x.py)
        return
    PagesManager.uses_pages_directory = False
    st.rerun()
