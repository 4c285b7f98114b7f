"""ganlab: an interactive laboratory for generative adversarial networks.

Run with `streamlit run app.py`. This file is the router (`st.navigation`): the home
page (`home.py`, "Home" in the sidebar) and each lab in pages/, ordered and named as
Streamlit names a pages/ folder (a leading number orders, underscores are spaces), so
their URLs (/Gaussian_playground, ...) stay as they were.
"""
from __future__ import annotations

import streamlit as st

from ui import projector
from ui.home import LABS

st.set_page_config(page_title="ganlab", page_icon="🧪", layout="wide")

home = st.Page("home.py", title="Home", icon=":material/home:", default=True)
page = st.navigation([home, *(st.Page(lab.page, title=lab.title) for lab in LABS)])
projector.toggle()
page.run()
projector.keep_in_url()
