"""Streamlit-side helpers shared by the app's pages (the engine is `ganlab`).

- `ui.runner`: per-browser-session background training (play / pause / step / reset).
- `ui.live_plot`: a Plotly.js component that keeps zoom and 3-D camera across updates.
- `ui.state`: the run configuration <-> the URL query string.
- `ui.views`: Plotly figure specs for the toy views and charts (no maths, only layout).
"""

from ui.router import take_over as _take_over

_take_over()  # see ui/router.py: the router serves even a first visit to a lab's URL
