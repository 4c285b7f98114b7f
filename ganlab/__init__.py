"""ganlab: an interactive laboratory for generative adversarial networks (the engine).

The engine never imports streamlit and never prints; the CLI (`python -m ganlab`)
and the Streamlit pages are two callers of the same functions.
"""
__version__ = "0.1.0"
