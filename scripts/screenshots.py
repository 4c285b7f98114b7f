"""Screenshots of the app's pages at the sizes a teacher meets (a desktop, a laptop /
projector, a phone), for looking at before calling a page done.

    python -m scripts.screenshots [--out /tmp/shots] [--pages home,1d,...] [--play SECONDS]

Starts `streamlit run app.py` on a free port (as scripts.measure_playground does),
opens each page in headless Chromium at 1600x1000, 1280x720 and 390x844 (and the
projector mode at 1280x720), optionally presses Play for a few seconds, and saves PNGs.
"""
from __future__ import annotations

import argparse
import os
import signal
import time
from pathlib import Path

from scripts.measure_playground import start_server

ROOT = Path(__file__).resolve().parents[1]

PAGES = {"home": "/", "1d": "/GAN_in_1D?preset=gan1d", "playground": "/Gaussian_playground",
         "collapse": "/Gaussian_playground?preset=collapse", "lab": "/Latent_lab",
         "studio": "/MNIST_studio", "explorer": "/Latent_explorer"}
SIZES = ((1600, 1000), (1280, 720), (390, 844))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/shots")
    ap.add_argument("--pages", default="home,1d,playground")
    ap.add_argument("--play", type=float, default=0.0, help="seconds of Play before the shot")
    ap.add_argument("--projector", action="store_true", help="also the projector mode at 1280x720")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    url, proc = start_server()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=os.environ.get("GANLAB_CHROMIUM", "/usr/bin/chromium"),
                                         args=["--no-sandbox", "--headless", "--disable-gpu"])
            shots = [(name, w, h, False) for name in args.pages.split(",") for w, h in SIZES]
            if args.projector:
                shots += [(name, 1280, 720, True) for name in args.pages.split(",")]
            for name, w, h, proj in shots:
                ctx = browser.new_context(viewport={"width": w, "height": h})
                page = ctx.new_page()
                path = PAGES[name]
                if proj:
                    path += ("&" if "?" in path else "?") + "projector=1"
                page.goto(url + path)
                page.wait_for_selector("[data-testid='stMainBlockContainer']", timeout=90_000)
                # The first page of a fresh server takes seconds (imports, the first run):
                # wait until the script has finished (no "Running" widget), then for Plotly.js.
                page.wait_for_function("() => !document.querySelector(\"[data-testid='stStatusWidget']\")",
                                       timeout=90_000)
                time.sleep(4.0)  # the live views' iframes load Plotly.js
                play = page.get_by_role("button", name="Play", exact=True)
                if args.play and play.count():
                    play.first.click()
                    time.sleep(args.play)
                    pause = page.get_by_role("button", name="Pause", exact=True)
                    if pause.count():
                        pause.first.click()
                    time.sleep(1.5)
                file = out / f"{name}-{w}x{h}{'-projector' if proj else ''}.png"
                page.screenshot(path=str(file))
                print(file)
                ctx.close()
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)


if __name__ == "__main__":
    main()
