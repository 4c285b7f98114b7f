"""What the home page and the app's navigation know about the labs: their pages in
order, titles, pictures (assets/home/, drawn by `python -m scripts.make_home_pictures`) and the
device sentence."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES_DIR = ROOT / "pages"


@dataclass(frozen=True)
class Lab:
    """A lab page: `page` relative to the app's root, its sidebar title and card picture."""

    page: str
    title: str
    picture: str


def page_order(path: Path) -> tuple[int, str]:
    """Streamlit's order: by the file name's leading number, unnumbered pages last."""
    number = re.match(r"[0-9]+", path.stem)
    return (int(number[0]) if number else 1 << 30, path.stem)


def page_title(path: Path) -> str:
    """Streamlit's own naming: a leading number orders the pages and is not shown."""
    return re.sub(r"^[0-9]*[_ -]*", "", path.stem).replace("_", " ")


def page_summary(path: Path) -> str:
    """The first paragraph of a page's docstring on one line (read with ast: the page is not
    run). A paragraph, not a line: a summary wrapped onto a second line was cut mid-sentence."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def _labs() -> tuple[Lab, ...]:
    pages = sorted(PAGES_DIR.glob("*.py"), key=page_order)
    return tuple(Lab(f"pages/{p.name}", page_title(p), re.sub(r"^[0-9]*[_ -]*", "", p.stem).lower())
                 for p in pages)


LABS = _labs()


def device_sentence(kind: str, name: str = "") -> str:
    """The device line in plain words for the best device type ('cuda', 'mps', 'cpu')."""
    if kind == "cuda":
        return (f"The image labs train on the GPU ({name}); the small 1-D / 2-D labs train on the CPU, "
                "which is faster for tiny networks.")
    if kind == "mps":
        return ("The image labs train on the Apple GPU (MPS); the small 1-D / 2-D labs train on the CPU, "
                "which is faster for tiny networks.")
    return "Training on the CPU; a GPU would be used if present."
