"""The home page (app.py routes to home.py): two lines on what a GAN is, one "Start here"
that opens the first lesson, a card with a picture and a link for every lab, the device
in plain words."""
from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.home import LABS, device_sentence, page_summary

ROOT = Path(__file__).resolve().parents[1]


def test_home_page_describes_the_lab_and_the_device() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert "GAN laboratory" in at.title[0].value
    assert "generator" in at.markdown[0].value and "discriminator" in at.markdown[0].value
    assert at.info[0].value == "Training on the CPU; a GPU would be used if present."
    assert any("torch " in c.value and "ganlab " in c.value for c in at.caption)  # versions, small print
    assert at.button(key="home.start").label.startswith("Start here")


def test_device_sentence_names_a_gpu() -> None:
    assert "GPU (H200)" in device_sentence("cuda", "H200")
    assert "Apple GPU" in device_sentence("mps")


def test_home_page_has_a_card_for_every_page() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    pages = sorted((ROOT / "pages").glob("*.py"))
    assert pages, "the app has no pages"
    links = at.get("page_link")
    assert sorted(link.proto.page for link in links) == sorted(re.sub(r"^[0-9]*[_ -]*", "", p.stem)
                                                              for p in pages)
    assert len(at.get("image")) == len(pages)  # each card has its picture (assets/home)
    for lab in LABS:
        assert (ROOT / "assets" / "home" / f"{lab.picture}.png").is_file(), lab
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Gaussian playground:") for c in captions)
    assert LABS[0].title == "GAN in 1D"  # the 1-D lesson comes first


def test_each_card_says_its_whole_first_sentence(tmp_path) -> None:
    wrapped = tmp_path / "9_Wrapped.py"
    wrapped.write_text('"""Wrapped: a summary that goes on\nonto a second line.\n\nDetails for the code."""\n')
    assert page_summary(wrapped) == "Wrapped: a summary that goes on onto a second line."
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    captions = [c.value for c in at.caption]
    for lab in LABS:
        card = page_summary(ROOT / lab.page)
        assert card in captions and card.endswith("."), card  # the studio's was cut at a line break: "... and the"
    assert any(c.startswith("MNIST studio:") and c.endswith("trained live.") for c in captions), captions
