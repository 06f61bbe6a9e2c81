"""How many threads the compiled path's matrix products run on.

numpy hands matrix products to a BLAS library (OpenBLAS, MKL, ...), which by default
starts a thread per core. For the sizes a teaching network has, that is a loss: the
threads' start and sync cost more than they share out, and when another process keeps
a core busy, a thread waits for its turn on that core at every product. Measured on
this project's 2-core machine (interleaved rounds, wall time, other work running), two
threads against one: 3.0x slower on a 16 x 64 x 1,797 product (the 64-16-10 network's
first layer on the digits), 11x on 64 x 256 x 1,797 (2.9e7 multiply-adds), 0.95x at
6e8 and 0.97x at 2.1e9; with one more busy process 4.2x, 13x, 0.82x and 0.92x. A whole
64-16-10 epoch took 2.8x as long on two threads, 6.5x with the busy process.

The rule: a replay whose largest matrix product has fewer than
:data:`ONE_THREAD_BELOW` multiply-adds runs its products on one thread (set through
threadpoolctl for the replay only); a larger one leaves BLAS its own choice.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from threadpoolctl import ThreadpoolController

__all__ = ["ONE_THREAD_BELOW", "for_matrix_products"]

ONE_THREAD_BELOW = 1e8
"""Multiply-adds of a replay's largest matrix product below which BLAS gets one thread."""


@functools.cache
def _blas_libraries() -> tuple[Any, ...]:
    """The BLAS libraries loaded in this process (found once: looking costs 0.2 ms)."""
    return tuple(ThreadpoolController().select(user_api="blas").lib_controllers)


@contextmanager
def for_matrix_products(multiply_adds: float) -> Iterator[None]:
    """BLAS's threads for products of this size while the block runs, then as they were.

    >>> import numpy as np
    >>> with for_matrix_products(16 * 64 * 1797):  # one thread
    ...     float((np.ones((2, 3)) @ np.ones((3, 2)))[0, 0])
    3.0
    """
    if multiply_adds >= ONE_THREAD_BELOW:
        yield
        return
    libraries = _blas_libraries()
    before = [library.get_num_threads() for library in libraries]
    for library in libraries:
        library.set_num_threads(1)
    try:
        yield
    finally:
        for library, n in zip(libraries, before, strict=True):
            library.set_num_threads(n)
