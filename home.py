"""ganlab's home page: what a GAN is, one first step, and a card for each lab.

`app.py` runs it as the "Home" entry of the sidebar (`st.navigation`).
"""
from __future__ import annotations

import streamlit as st
import torch

from ganlab import __version__
from ganlab.train import resolve_device
from ui.home import LABS, PAGES_DIR, ROOT, device_sentence, page_summary
from ui.lessons import LESSONS
from ui.runner import TORCH_THREADS

st.title("ganlab: a GAN laboratory")
st.markdown(
    "A **generator** G turns random noise into samples; a **discriminator** D tries to tell them "
    "from real data.  \nEach one's mistakes teach the other, until G's samples look like the data: "
    "here you watch that game live, in your browser."
)
first = LESSONS[0]
if st.button(f"Start here: {first.title}", type="primary", icon=":material/play_arrow:", key="home.start"):
    st.switch_page(first.page, query_params=first.query or None)
st.caption(f"A guided path of {len(LESSONS)} short steps; each page says what to watch and links the next.")

st.subheader("Labs")
for i, lab in enumerate(LABS):
    if i % 3 == 0:  # a row of three at a time: on a phone the cards stack in the path's order
        cols = st.columns(3)
    with cols[i % 3].container(border=True):
        picture = ROOT / "assets" / "home" / f"{lab.picture}.png"
        if picture.is_file():
            st.image(str(picture), width="stretch")
        st.page_link(lab.page, label=lab.title, icon=":material/arrow_forward:")
        st.caption(page_summary(PAGES_DIR.parent / lab.page))

best = resolve_device("auto")
st.info(device_sentence(best.type, torch.cuda.get_device_name(best) if best.type == "cuda" else ""))
st.caption(f"{TORCH_THREADS} torch thread(s) per training run, so that sessions share the cores · "
           f"torch {torch.__version__} · ganlab {__version__} · settings live in the URL: copy it "
           "to share an experiment.")
