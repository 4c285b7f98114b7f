"""Playground sessions without a browser: Streamlit's websocket protocol, spoken as a tab speaks it.

In a classroom every student's browser runs on the student's own laptop. On this 2-core
machine ten headless Chromium pages share the cores with the server, so a measurement
with ten browsers measures the browsers. A `SocketSession` opens the Gaussian playground
over the app's websocket (`/_stcore/stream`, the messages of `streamlit.proto`), clicks
buttons by their widget key, and asks for the next frame whenever one arrives, as
`ui/live_plot`'s frontend does (a `{"tick": n}` component value at most every `pace`
seconds, sent as a rerun of the view's fragment). The server then does the work it does
for a real tab (training thread, fragment reruns, figures encoded and sent) minus the drawing.

    pool = SocketPool("http://127.0.0.1:8501", 30)   # 30 sessions, opened at once
    pool.click_all("pg.play")                         # all train
    pool.frames(0)                                    # [(monotonic s, step shown), ...]
    pool.close()

Used by `python -m scripts.measure_playground` (`--load socket`, `--socket-sessions N`).
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any, Awaitable, Callable

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

PAGE = "Gaussian_playground"
VIEW_KEY = "pg.view.2-D"  # the live 2-D view's widget key (pages/1_Gaussian_playground.py)
VALUE_KINDS = ("checkbox", "radio", "selectbox", "number_input", "slider", "text_input")  # the page's widgets


class SocketSession:
    """One browser tab's worth of protocol on one websocket (use it from `SocketPool`'s loop)."""

    def __init__(self, url: str, page: str = PAGE) -> None:
        self.ws_url = url.replace("http://", "ws://").replace("https://", "wss://") + "/_stcore/stream"
        self.page = page
        self.widgets: dict[str, tuple[str, str]] = {}  # widget key -> (widget id, fragment id)
        # button label -> (time.monotonic() it was last drawn, widget id, fragment id)
        self.buttons: dict[str, tuple[float, str, str]] = {}
        self.values: dict[str, WidgetState] = {}  # widget id -> its value, as a tab reports them all
        self.frames: list[tuple[float, int]] = []  # (time.monotonic(), step) per view frame received
        self.notices: list[str] = []  # error boxes and exceptions the page showed
        self.runs_finished = 0
        self.query = ""
        self.page_hash = ""  # the page's script hash, known after the first run
        self._ws: Any = None
        self._tick = 0
        self._last_ask = 0.0
        self._ask: asyncio.Task | None = None
        self._reader: asyncio.Task | None = None

    async def open(self, timeout: float = 120.0) -> None:
        """Connect and run the page once (as a tab's first load); returns when it finished."""
        self._ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                            open_timeout=timeout)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        await self._rerun()
        end = time.monotonic() + timeout
        while self.runs_finished == 0 or self.page == PAGE and VIEW_KEY not in self.widgets:
            if time.monotonic() > end:
                raise TimeoutError(f"{self.page} did not finish its first run within {timeout:.0f} s")
            await asyncio.sleep(0.05)

    async def click(self, key: str) -> None:
        """Click the button with widget key `key` (a trigger, rerunning its fragment)."""
        await self.click_id(*self.widgets[key])

    async def click_id(self, widget_id: str, fragment: str) -> None:
        """Click the button with this widget id: also one the page no longer draws, as a
        click that reaches the server twice does the second time."""
        await self._rerun(WidgetState(id=widget_id, trigger_value=True), fragment)

    async def close(self) -> None:
        for task in (self._ask, self._reader):
            if task is not None:
                task.cancel()
        if self._ws is not None:
            await self._ws.close()

    async def _rerun(self, state: WidgetState | None = None, fragment: str = "") -> None:
        msg = BackMsg()
        msg.rerun_script.query_string = self.query
        if self.page_hash:  # a rerun of the page the tab is on
            msg.rerun_script.page_script_hash = self.page_hash
        else:  # the first load names the page, as its URL does
            msg.rerun_script.page_name = self.page
        if fragment:
            msg.rerun_script.fragment_id = fragment
        # A tab sends every widget's value with each rerun (the server reads the ones a
        # fragment rerun does not draw from them), plus the one that changed.
        values = dict(self.values)
        if state is not None:
            values[state.id] = state
        msg.rerun_script.widget_states.widgets.extend(values.values())
        await self._ws.send(msg.SerializeToString())

    async def _read(self) -> None:
        async for data in self._ws:
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "script_finished":
                self.runs_finished += 1
            elif kind == "navigation":  # st.navigation names the page it is on
                self.page_hash = msg.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string  # keeps the ?me= browser token
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._element(msg.delta.new_element, msg.delta.fragment_id)

    def _element(self, element: Any, fragment: str) -> None:
        kind = element.WhichOneof("type")
        widget = getattr(element, kind)
        # A tab keeps a widget's value when the widget is drawn again, unless the
        # script set it (set_value); a new widget starts from its default.
        if kind in VALUE_KINDS and (widget.id not in self.values or widget.set_value):
            value = widget_value(kind, widget)
            if value is not None:
                self.values[widget.id] = value
        if kind == "exception" or kind == "alert" and widget.format == widget.ERROR:
            self.notices.append(getattr(widget, "message", "") or getattr(widget, "body", ""))
        if kind not in ("button", "component_instance"):
            return
        if kind == "button":
            self.buttons[widget.label] = (time.monotonic(), widget.id, fragment)
        # A keyed widget's id is "$$ID-<hash>-<key>" (keys may hold "-": "pg.view.2-D").
        key = widget.id.split("-", 2)[-1] if widget.id.startswith("$$ID-") else widget.id
        self.widgets[key] = (widget.id, fragment)
        if kind == "component_instance" and key == VIEW_KEY:
            args = json.loads(widget.json_args)
            self.frames.append((time.monotonic(), int(args.get("meta", {}).get("step", -1))))
            if isinstance(args.get("pace"), (int, float)) and not args.get("draw"):
                self._ask_for_next(float(args["pace"]))

    def _ask_for_next(self, pace: float) -> None:
        """live_plot's frontend: one request per frame received, at most every `pace` s."""
        if self._ask is not None and not self._ask.done():
            return

        async def ask() -> None:
            await asyncio.sleep(max(0.0, self._last_ask + pace - time.monotonic()))
            self._last_ask = time.monotonic()
            self._tick += 1
            widget_id, fragment = self.widgets[VIEW_KEY]
            await self._rerun(WidgetState(id=widget_id, json_value=json.dumps({"tick": self._tick})), fragment)

        self._ask = asyncio.get_running_loop().create_task(ask())


def widget_value(kind: str, widget: Any) -> WidgetState | None:
    """The value a tab reports for a widget element it was just sent (None: no value to
    report, e.g. buttons, or a kind this page does not use)."""
    if kind not in VALUE_KINDS:
        return None
    state = WidgetState(id=widget.id)
    if kind == "checkbox":
        state.bool_value = widget.value if widget.set_value else widget.default
    elif kind in ("radio", "selectbox"):
        if widget.set_value:
            state.string_value = widget.raw_value
        elif 0 <= widget.default < len(widget.options):
            state.string_value = widget.options[widget.default]
        else:
            return None
    elif kind == "number_input":  # ints too: the server reads double_value
        state.double_value = widget.value if widget.set_value else widget.default
    elif kind == "slider" and widget.options:  # a select_slider: its options by label
        state.string_array_value.data.extend(
            widget.raw_value if widget.set_value else [widget.options[int(i)] for i in widget.default])
    elif kind == "slider":
        state.double_array_value.data.extend(widget.value if widget.set_value else widget.default)
    else:
        state.string_value = widget.value if widget.set_value else widget.default
    return state


class SocketPool:
    """n `SocketSession`s on one event loop in a background thread (the caller stays synchronous)."""

    def __init__(self, url: str, n: int, page: str = PAGE) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="socket-sessions", daemon=True)
        self._thread.start()
        self.sessions = [SocketSession(url, page) for _ in range(n)]
        self._call(lambda: asyncio.gather(*(s.open() for s in self.sessions)), timeout=300)

    def _call(self, awaitable: Callable[[], Awaitable[Any]], timeout: float = 60.0) -> Any:
        """Await `awaitable()` on the pool's loop (made there: gather binds to the running loop)."""
        async def run() -> Any:
            return await awaitable()
        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def click(self, i: int, key: str) -> None:
        self._call(lambda: self.sessions[i].click(key))

    def click_id(self, i: int, widget_id: str, fragment: str) -> None:
        self._call(lambda: self.sessions[i].click_id(widget_id, fragment))

    def click_all(self, key: str) -> None:
        self._call(lambda: asyncio.gather(*(s.click(key) for s in self.sessions)))

    def frames(self, i: int) -> list[tuple[float, int]]:
        return list(self.sessions[i].frames)

    def shown_step(self, i: int) -> int:
        frames = self.sessions[i].frames
        return frames[-1][1] if frames else -1

    def close(self) -> None:
        try:
            self._call(lambda: asyncio.gather(*(s.close() for s in self.sessions), return_exceptions=True))
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
