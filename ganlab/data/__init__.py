"""Data sets: `build_dataset(DataOptions)` -> `Dataset` (on the CPU).

The registry `DATASETS` lives in `ganlab.data.base`; builders register themselves
from their own modules (toy sets in `toy.py`, image sets in `images.py`), which
this package imports so that the registry is complete once `ganlab.data` is.
"""
from __future__ import annotations

from ganlab.data import toy  # noqa: F401, I001  (fill the registry: toy sets first)
from ganlab.data import images  # noqa: F401, E402
from ganlab.data.base import DATASETS, DataInfo, DataOptions, Dataset, build_dataset

__all__ = ["DATASETS", "DataInfo", "DataOptions", "Dataset", "build_dataset"]
