"""Data-set registry: `build_dataset(DataOptions)` -> `Dataset` (on the CPU).

Builders register themselves in `DATASETS` from their own modules (toy sets in
`toy.py`, image sets in `images.py`); this module imports them so that the
registry is complete once `ganlab.data` is imported.
"""
from __future__ import annotations

from typing import Callable

from ganlab.data.base import DataInfo, DataOptions, Dataset
from ganlab.registry import Registry

DATASETS: Registry[Callable[[DataOptions], Dataset]] = Registry("data set")


def build_dataset(opts: DataOptions) -> Dataset:
    """Build the named data set on the CPU; raises ConfigError for unknown names."""
    return DATASETS.get(opts.name)(opts)


# Importing the builder modules fills the registry.
from ganlab.data import toy  # noqa: E402,F401

from ganlab.data import images  # noqa: E402,F401

__all__ = ["DATASETS", "DataInfo", "DataOptions", "Dataset", "build_dataset"]
