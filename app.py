"""ganlab: an interactive laboratory for generative adversarial networks (home page).

Run with `streamlit run app.py`. Each file in pages/ is one lab; this page says
what the lab is, which device trains, and links every page.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import streamlit as st
import torch

from ganlab import __version__
from ganlab.train import resolve_device
from ui.runner import TORCH_THREADS

PAGES = Path(__file__).parent / "pages"

st.set_page_config(page_title="ganlab", page_icon="🧪", layout="wide")


def page_summary(path: Path) -> str:
    """The first line of a page's docstring (read with ast: the page is not run)."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def page_order(path: Path) -> tuple[int, str]:
    """Streamlit's order: by the file name's leading number, unnumbered pages last."""
    number = re.match(r"[0-9]+", path.stem)
    return (int(number[0]) if number else 1 << 30, path.stem)


st.title("ganlab: a GAN laboratory")
st.markdown(
    "Train generative adversarial networks and **watch them learn**: a generator G turns "
    "random noise into samples, a discriminator D tries to tell them from real data, and each "
    "one's mistakes teach the other. Every page trains live in your browser session; change a "
    "setting and the next step uses it, press pause and the run stops where it is. Settings "
    "live in the URL: copy it to share an experiment."
)

best = resolve_device("auto")
if best.type == "cuda":
    gpu = f"GPU **{torch.cuda.get_device_name(best)}** available to the image labs; "
elif best.type == "mps":
    gpu = "Apple GPU (**MPS**) available to the image labs; "
else:
    gpu = "no GPU visible; "
st.info(f"Device in use: {gpu}the toy labs train on the **CPU** (faster for small networks), "
        f"with {TORCH_THREADS} torch thread(s) per training run so that sessions share the cores. "
        f"torch {torch.__version__}, ganlab {__version__}.")

st.subheader("Labs")
pages = sorted(PAGES.glob("*.py"), key=page_order)
if not pages:
    st.write("No labs installed.")
for page in pages:
    # Streamlit's own naming: a leading number orders the pages and is not shown.
    title = re.sub(r"^[0-9]*[_ -]*", "", page.stem).replace("_", " ")
    st.page_link(str(page.relative_to(PAGES.parent)), label=title)
    summary = page_summary(page)
    if summary:
        st.caption(summary)
