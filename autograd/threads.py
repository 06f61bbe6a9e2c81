"""How many threads the compiled path's matrix products run on.

numpy hands matrix products to a BLAS library (OpenBLAS, MKL, ...), which by default
starts a thread per core. For the sizes a teaching network has, that is a loss: the
threads' start and sync cost more than they share out, and when another process keeps
a core busy, one thread waits for its turn on that core at every product (a 64-16-10
epoch on the 1,797 digits took 30 ms instead of 5.8 ms). The compiled path therefore
chooses the number itself, through threadpoolctl, for the duration of a replay only.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from threadpoolctl import ThreadpoolController

__all__ = ["for_matrix_products"]


@functools.cache
def _blas_libraries() -> tuple[Any, ...]:
    """The BLAS libraries loaded in this process (found once: looking costs 0.2 ms)."""
    return tuple(ThreadpoolController().select(user_api="blas").lib_controllers)


@contextmanager
def for_matrix_products(batch: int) -> Iterator[None]:
    """BLAS on one thread while the block runs, then as it was.

    >>> import numpy as np
    >>> with for_matrix_products(100):
    ...     float((np.ones((2, 3)) @ np.ones((3, 2)))[0, 0])
    3.0
    """
    libraries = _blas_libraries()
    before = [library.get_num_threads() for library in libraries]
    for library in libraries:
        library.set_num_threads(1)
    try:
        yield
    finally:
        for library, n in zip(libraries, before, strict=True):
            library.set_num_threads(n)
