"""Shared test set-up.

Tests train tiny networks, where torch's thread pool costs more than it gives,
and they share 2 cores with subprocesses (CLI runs, a Streamlit server): one
intra-op thread keeps them fast and predictable. Subprocesses inherit it via
OMP_NUM_THREADS.
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)
