"""`python -m tests.e2e.serve run app.py ...`: Streamlit's own command line, with one
addition for the browser tests: SIGUSR1 writes the Python stack of every server thread
to stderr (the server's log). A browser test that times out then shows what the server
was doing at that moment (tests/e2e/conftest.py sends the signal and attaches the log),
rather than only which label never came."""
from __future__ import annotations

import faulthandler
import signal
import sys

from streamlit.web.cli import main

if __name__ == "__main__":
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    sys.exit(main(prog_name="streamlit"))
