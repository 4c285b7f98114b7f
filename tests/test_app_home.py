"""The home page (app.py): says what the lab is, shows the device, links every page."""
from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def test_home_page_describes_the_lab_and_the_device() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert "GAN laboratory" in at.title[0].value
    assert "generator" in at.markdown[0].value and "discriminator" in at.markdown[0].value
    device = at.info[0].value
    assert device.startswith("Device in use") and "CPU" in device


def test_home_page_links_every_page_with_its_summary() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    pages = sorted((ROOT / "pages").glob("*.py"))
    assert pages, "the app has no pages"
    links = at.get("page_link")
    assert sorted(link.proto.page for link in links) == sorted(re.sub(r"^[0-9]*[_ -]*", "", p.stem)
                                                              for p in pages)
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Gaussian playground:") for c in captions)
