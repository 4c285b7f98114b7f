"""Measure how the Gaussian playground feels in a real browser, and print the figures.

    python -m scripts.measure_playground [--seconds 15] [--speed 20] [--sessions 10]
    python -m scripts.measure_playground --clicks 20 --click-sessions 10 --only-clicks
    python -m scripts.measure_playground --socket-sessions 30 --only-sockets

Starts `streamlit run app.py` on a free port (or uses --url), opens the playground in
headless Chromium (Debian's /usr/bin/chromium, or $GANLAB_CHROMIUM) with 1,000 fake +
1,000 real points and D's heat map, and reports:
- redraws/s: redraws of the 2-D view that showed a new training step, per second;
- training steps/s: steps the view's step counter advanced per second;
- pause latency: from the click on Pause until the view's step stops changing, on
  the browser's clock (click event -> last redraw showing a new step), and as the
  driver saw it by polling (which adds Playwright's own click overhead);
- Play / Pause clicks (--clicks): seconds until the button flips (on the browser's clock,
  click event -> first DOM change showing the other label; and as the driver polled it), lost clicks, and
  whether the view stood still after Pause, with 1 and with N sessions training;
- N sessions at once: each one trains, a reset in one leaves the others alone,
  and the server's thread count returns to its idle value after they close.
The browser figures come from the browser's own redraw log (`window.ganlabLivePlot`),
the socket figures from the frames each socket session received.
Not a test: no thresholds, the numbers depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

from playwright.sync_api import Browser, Frame, Page, sync_playwright

from scripts.socket_sessions import SocketPool

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LOG = "() => window.ganlabLivePlot.log.slice()"


def start_server() -> tuple[str, subprocess.Popen]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true",
           "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=tempfile.TemporaryFile(), stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                return url, proc
        except OSError:
            time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit("streamlit did not start within 60 s")


def threads(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Threads:")).split()[1])


def runner_threads(pid: int) -> int:
    """The server's training threads (ui.runner gives them this OS name)."""
    count = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            count += (task / "comm").read_text().strip() == "ganlab-runner"
        except OSError:
            pass
    return count


def wait_for(cond: Callable[[], Any], timeout: float = 60.0) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError("condition not met")


def open_page(browser: Browser, url: str, speed: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(url + "/Gaussian_playground")
    page.get_by_role("button", name="Play", exact=True).wait_for(timeout=90_000)
    if speed != "10":
        # The speed select-slider: focus its thumb and step with the keyboard.
        thumb = page.get_by_role("slider").first
        thumb.focus()
        options = ["1", "2", "5", "10", "20", "50", "100", "max"]
        key = "ArrowRight" if options.index(speed) > 3 else "ArrowLeft"
        for _ in range(abs(options.index(speed) - 3)):
            thumb.press(key)
        time.sleep(1.0)
    return page


def view(page: Page) -> Frame:
    def find() -> Frame | None:
        for f in page.frames:
            try:
                if f.evaluate("() => document.body && document.body.dataset.view === '2-D'"):
                    return f
            except Exception:
                pass
        return None
    return wait_for(find)


def on_view(page: Page, js: str) -> Any:
    """Evaluate js in the 2-D view's frame, finding it again if Streamlit replaced it
    (under heavy load a websocket reconnect re-creates the page's iframes)."""
    for _ in range(20):
        try:
            return view(page).evaluate(js)
        except Exception:  # detached or navigating frame
            time.sleep(0.2)
    raise TimeoutError("the 2-D view kept disappearing")


def now_ms(page: Page) -> float:
    return page.evaluate("() => Date.now()")


def changes(log: list[list[Any]], t0: float, t1: float) -> list[list[Any]]:
    """Redraws within [t0, t1] that showed a step different from the redraw before."""
    out, prev = [], None
    for t, step in log:
        if step != prev and t0 <= t <= t1 and prev is not None:
            out.append([t, step])
        prev = step
    return out


def measure_rate(page: Page, seconds: float) -> dict[str, float]:
    page.get_by_role("button", name="Play", exact=True).click()
    time.sleep(3.0)  # warm up
    t0 = now_ms(page)
    time.sleep(seconds)
    t1 = now_ms(page)
    seen = changes(on_view(page, LOG), t0, t1)
    steps = (seen[-1][1] - seen[0][1]) / ((seen[-1][0] - seen[0][0]) / 1000) if len(seen) > 1 else 0.0
    return {"redraws_per_s": len(seen) / ((t1 - t0) / 1000), "train_steps_per_s": steps}


def measure_pause(page: Page, repeats: int) -> tuple[list[float], list[float]]:
    """Seconds from each click on Pause until the view's step stopped changing.

    Two clocks: the browser's (from the click event to the last redraw that showed a
    new step, both stamped by Date.now() in the page), and the driver's (from just
    before Playwright's click, which first waits for the button to be stable, until
    polling saw the last change; +- one poll).
    """
    browser, driver = [], []
    for _ in range(repeats):
        if not page.get_by_role("button", name="Pause", exact=True).is_visible():
            page.get_by_role("button", name="Play", exact=True).click()
            time.sleep(2.0)
        page.evaluate("() => { window.ganlabClick = null; document.addEventListener('click', "
                      "() => { window.ganlabClick = Date.now(); }, {capture: true, once: true}); }")
        t_click = time.monotonic()
        page.get_by_role("button", name="Pause", exact=True).click()
        last, last_change = shown_step(page), t_click
        while time.monotonic() - t_click < 3.0:
            step = shown_step(page)
            if step != last:
                last, last_change = step, time.monotonic()
        driver.append(round(last_change - t_click, 3))
        clicked = page.evaluate("() => window.ganlabClick")
        log = on_view(page, LOG)
        moved = [t for t, _ in changes(log, clicked, clicked + 3000)]
        browser.append(round(max(0.0, (moved[-1] - clicked) / 1000) if moved else 0.0, 3))
    return browser, driver


def measure_clicks(browser: Browser, url: str, repeats: int, sessions: int, load: str = "socket") -> dict[str, Any]:
    """Play / Pause clicks alternately in one session while `sessions - 1` others train
    (socket sessions or browser pages, `load`): per click, seconds until the button
    shows the other label (the click took effect), polled every 20 ms; a click that has
    not flipped it within 5 s is lost. For Pause also whether the view's step then
    stayed still (training really stopped)."""
    others: list[Page] = []
    pool = None
    if sessions > 1 and load == "socket":
        pool = SocketPool(url, sessions - 1)
        pool.click_all("pg.play")
    elif sessions > 1:
        others = [open_page(browser, url, "10") for _ in range(sessions - 1)]
        for p in others:
            p.get_by_role("button", name="Play", exact=True).click()
    page = open_page(browser, url, "10")
    if pool is not None:  # the clicks come while the others train, not while they start
        try:
            wait_for_poll(lambda: all(pool.shown_step(i) > 0 for i in range(sessions - 1)), 60.0)
        except TimeoutError:
            pass  # reported below as other_socket_sessions_all_trained
        time.sleep(2.0)
    # The browser's clock: the click event (capture phase, before Streamlit sees it) and
    # the first moment a button reads the other label (a MutationObserver on the page).
    page.evaluate(FLIP_WATCH)
    latencies: list[float] = []
    on_browser: list[float] = []
    lost, moved_after_pause = 0, 0
    for i in range(repeats):
        now = "Pause" if page.get_by_role("button", name="Pause", exact=True).is_visible() else "Play"
        other = "Play" if now == "Pause" else "Pause"
        if now == "Play":
            time.sleep(0.5)  # a paused view is still; Pause clicks come while it redraws
        else:
            time.sleep(1.0)
        page.evaluate("(label) => window.ganlabFlip.arm(label)", other)
        t0 = time.monotonic()
        page.get_by_role("button", name=now, exact=True).click()
        try:
            wait_for_poll(lambda: page.get_by_role("button", name=other, exact=True).is_visible(), 5.0)
            latencies.append(round(time.monotonic() - t0, 3))
        except TimeoutError:
            lost += 1
            continue
        flip = page.evaluate("() => window.ganlabFlip.result()")
        if flip is not None:
            on_browser.append(round(flip / 1000, 3))
        if now == "Pause":
            time.sleep(0.3)
            a = shown_step(page)
            time.sleep(1.0)
            moved_after_pause += shown_step(page) != a
    others_trained = [pool.shown_step(i) > 0 for i in range(sessions - 1)] if pool else []
    for p in [page, *others]:
        p.context.close()
    if pool is not None:
        pool.close()
    return {"sessions_training": sessions, "other_sessions": load if sessions > 1 else None,
            "other_socket_sessions_all_trained": all(others_trained) if pool else None,
            "clicks": repeats, "lost_clicks": lost,
            "browser_clock_s_median": statistics.median(on_browser) if on_browser else None,
            "browser_clock_s_max": max(on_browser) if on_browser else None, "browser_clock_s": on_browser,
            "latency_s_median": statistics.median(latencies) if latencies else None,
            "latency_s_max": max(latencies) if latencies else None, "latency_s": latencies,
            "view_moved_after_pause": moved_after_pause, "load_avg_1m": os.getloadavg()[0]}


# Installed once per page: arm(label) starts a measurement; result() is the milliseconds
# from the next click event to the first DOM change after it that shows a button labelled
# `label` (null until both happened).
FLIP_WATCH = """() => {
  const w = {label: null, click: null, flip: null};
  // A button's text ends with its label (an icon's ligature name may come first).
  const shows = () => [...document.querySelectorAll('button')].some(
    b => b.innerText.trim().split('\\n').pop().trim() === w.label);
  document.addEventListener('click', () => { if (w.label && w.click === null) w.click = performance.now(); }, true);
  new MutationObserver(() => {
    if (w.click !== null && w.flip === null && shows()) w.flip = performance.now();
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
  window.ganlabFlip = {
    arm: (label) => { w.label = label; w.click = null; w.flip = null; },
    result: () => (w.click === null || w.flip === null) ? null : w.flip - w.click,
  };
}"""


def wait_for_poll(cond: Callable[[], Any], timeout: float) -> Any:
    """`wait_for` polling every 20 ms (click latencies are measured with it)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    raise TimeoutError("condition not met")


def shown_step(page: Page) -> int:
    return int(on_view(page, "() => Number(document.body.dataset.step)"))


def back_to_idle(url: str, pid: int, idle: int, t_close: float) -> tuple[float | None, bool]:
    """Seconds from t_close until the server's thread count is back to `idle` (None:
    not within 30 s), and whether a page visit was needed to get there.

    The total also counts the web server's worker threads (anyio's pool under
    Streamlit's server): they grow with the load and leave after 10 s idle, but the
    pool only looks for idle ones when it is next used. So wait, and if the count is
    still high after 15 s, one visit to the home page lets the pool prune."""
    nudged = False
    try:
        wait_for(lambda: threads(pid) <= idle, 15)
    except TimeoutError:
        nudged = True
        SocketPool(url, 1, page="").close()  # one visit to the home page
    try:
        wait_for(lambda: threads(pid) <= idle, 15)
        return round(time.monotonic() - t_close, 1), nudged
    except TimeoutError:
        return None, nudged


def measure_socket_sessions(url: str, pid: int, n: int, seconds: float) -> dict[str, Any]:
    """n socket sessions train at once for `seconds`: per session the training steps/s
    and redraws/s (frames that showed a new step) it received; then a reset in one
    must leave the others training, and after all close the training threads stop
    and the server's thread count returns to its idle value."""
    SocketPool(url, n).close()  # warm up: the first sessions import and build more
    time.sleep(3.0)
    idle = threads(pid)
    pool = SocketPool(url, n)
    pool.click_all("pg.play")
    time.sleep(3.0)
    t0 = time.monotonic()
    time.sleep(seconds)
    t1 = time.monotonic()
    peak, training = threads(pid), runner_threads(pid)
    steps, redraws = [], []
    for i in range(n):
        seen = [(t, step) for t, step in changed(pool.frames(i)) if t0 <= t <= t1]
        redraws.append(len(seen) / (t1 - t0))
        steps.append((seen[-1][1] - seen[0][1]) / (seen[-1][0] - seen[0][0]) if len(seen) > 1 else 0.0)
    first = [pool.shown_step(i) for i in range(n)]
    pool.click(0, "pg.reset")
    t_reset = time.monotonic()
    wait_for(lambda: 0 <= pool.shown_step(0) < first[0], 120)
    reset_s = round(time.monotonic() - t_reset, 1)
    time.sleep(3.0)
    later = [pool.shown_step(i) for i in range(n)]
    notices = sorted({text for s in pool.sessions for text in s.notices})
    pool.close()
    t_close = time.monotonic()
    wait_for(lambda: runner_threads(pid) == 0, 60)
    stopped = round(time.monotonic() - t_close, 1)
    back, nudged = back_to_idle(url, pid, idle, t_close)
    spread = lambda xs: {"min": round(min(xs), 1), "median": round(statistics.median(xs), 1),  # noqa: E731
                         "max": round(max(xs), 1)}
    return {"sessions": n, "seconds": seconds, "all_trained": all(x > 0 for x in steps),
            "train_steps_per_s": spread(steps), "train_steps_per_s_all_sessions": round(sum(steps)),
            "redraws_per_s": spread(redraws), "redraws_per_s_all_sessions": round(sum(redraws), 1),
            "errors_shown": notices, "reset_isolated": later[0] < first[0] and all(
                b > a for a, b in zip(first[1:], later[1:])), "seconds_to_show_reset": reset_s,
            "training_threads_while_playing": training, "training_threads_after_close": runner_threads(pid),
            "seconds_until_training_threads_stopped": stopped, "threads_idle": idle,
            "threads_training": peak, "threads_after_close": threads(pid),
            "seconds_back_to_idle_thread_count": back, "page_visit_needed": nudged,
            "load_avg_1m": os.getloadavg()[0]}


def changed(frames: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """The frames that showed a step different from the frame before."""
    return [f for prev, f in zip(frames, frames[1:]) if f[1] != prev[1]]


def measure_sessions(browser: Browser, url: str, pid: int, n: int) -> dict[str, Any]:
    warm = [open_page(browser, url, "10") for _ in range(n)]
    for p in warm:
        view(p)
        p.context.close()
    time.sleep(3.0)
    idle = threads(pid)
    pages = [open_page(browser, url, "10") for _ in range(n)]
    for p in pages:
        p.get_by_role("button", name="Play", exact=True).click()
    time.sleep(10.0)
    first = [shown_step(p) for p in pages]
    peak, training = threads(pid), runner_threads(pid)
    pages[0].get_by_role("button", name="Reset", exact=True).click()
    t_reset = time.monotonic()
    wait_for(lambda: shown_step(pages[0]) < first[0], 120)
    reset_s = round(time.monotonic() - t_reset, 1)
    time.sleep(3.0)
    later = [shown_step(p) for p in pages]
    others_kept = all(b > a for a, b in zip(first[1:], later[1:]))
    for p in pages:
        p.context.close()
    t_close = time.monotonic()
    wait_for(lambda: runner_threads(pid) == 0, 30)
    stopped = round(time.monotonic() - t_close, 1)
    back, nudged = back_to_idle(url, pid, idle, t_close)
    return {"sessions": n, "all_trained": all(s > 0 for s in first), "steps_after_10s": first,
            "reset_isolated": others_kept and later[0] < first[0], "seconds_to_show_reset": reset_s,
            "training_threads_while_playing": training, "training_threads_after_close": runner_threads(pid),
            "seconds_until_training_threads_stopped": stopped, "threads_idle": idle,
            "threads_training": peak, "threads_after_close": threads(pid),
            "seconds_back_to_idle_thread_count": back, "home_page_visit_needed": nudged}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="an app already running (default: start one)")
    ap.add_argument("--seconds", type=float, default=15.0, help="length of the rate measurement")
    ap.add_argument("--speed", default="20", help="training steps per redraw: 1 2 5 10 20 50 100 max")
    ap.add_argument("--pauses", type=int, default=5, help="pause clicks to time")
    ap.add_argument("--sessions", type=int, default=10, help="concurrent sessions (0 = skip)")
    ap.add_argument("--clicks", type=int, default=0,
                    help="Play / Pause clicks to time, with 1 and with --click-sessions sessions training")
    ap.add_argument("--click-sessions", type=int, default=10)
    ap.add_argument("--load", choices=("socket", "browser"), default="socket",
                    help="what the other sessions of --click-sessions are (see above)")
    ap.add_argument("--only-clicks", action="store_true", help="skip the rate, pause and session figures")
    ap.add_argument("--socket-sessions", type=int, default=0, help="socket sessions training at once (0 = skip)")
    ap.add_argument("--socket-seconds", type=float, default=20.0, help="length of the socket sessions' measurement")
    ap.add_argument("--only-sockets", action="store_true", help="only the socket sessions' figures")
    args = ap.parse_args(argv)
    exe = os.environ.get("GANLAB_CHROMIUM", "/usr/bin/chromium")
    if not Path(exe).is_file():
        exe = shutil.which("chromium") or exe
    url, proc = (args.url, None) if args.url else start_server()
    report(cpus=os.cpu_count(), load_avg_1m=os.getloadavg()[0])
    try:
        if args.socket_sessions and proc is not None:
            report(socket_sessions=measure_socket_sessions(url, proc.pid, args.socket_sessions, args.socket_seconds))
        if args.only_sockets:
            return 0
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
            for n in (1, args.click_sessions) if args.clicks else ():
                report(**{f"play_pause_clicks_{n}_sessions": measure_clicks(browser, url, args.clicks, n, args.load)})
            if args.only_clicks:
                browser.close()
                return 0
            page = open_page(browser, url, args.speed)
            report(speed=args.speed, **measure_rate(page, args.seconds))
            pauses, polled = measure_pause(page, args.pauses)
            report(pause_latency_s_median=statistics.median(pauses), pause_latency_s_max=max(pauses),
                   pause_latency_s=pauses, pause_latency_polled_s_median=statistics.median(polled),
                   pause_latency_polled_s=polled, load_avg_1m=os.getloadavg()[0])
            page.context.close()
            if args.sessions and proc is not None:
                report(concurrent=measure_sessions(browser, url, proc.pid, args.sessions),
                       load_avg_1m=os.getloadavg()[0])
            browser.close()
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
    return 0


def report(**figures: Any) -> None:
    """Print figures as they are measured (a later failure does not lose them)."""
    for key, value in figures.items():
        print(f"{key}: {round(value, 3) if isinstance(value, float) else json.dumps(value)}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
