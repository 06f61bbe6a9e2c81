"""Weight initialisers: plain functions ``(fan_in, fan_out, rng) -> float``.

Each draws one weight from an explicit, seeded :class:`random.Random`, so the same seed
gives the same weights on every machine. ``fan_in`` is the number of inputs of the neuron
the weight feeds, ``fan_out`` the number of neurons in its layer.

==================  ===============================  ==========================
name                distribution                     variance
==================  ===============================  ==========================
``uniform``         U(-1, 1) (micrograd's)           1/3
``normal``          N(0, 1)                          1
``xavier_uniform``  U(-a, a), a = sqrt(6/(in+out))   2/(in+out)
``xavier_normal``   N(0, 2/(in+out))                 2/(in+out)
``he_uniform``      U(-a, a), a = sqrt(6/in)         2/in
``he_normal``       N(0, 2/in)                       2/in
``lecun_uniform``   U(-a, a), a = sqrt(3/in)         1/in
``lecun_normal``    N(0, 1/in)                       1/in
``zeros``           0 (every neuron alike: shows      0
                    why symmetry must be broken)
==================  ===============================  ==========================

``xavier`` (also ``glorot``), ``he`` (also ``kaiming``) and ``lecun`` name the uniform
variants.

>>> import random
>>> rng = random.Random(0)
>>> w = xavier_uniform(4, 3, rng)
>>> abs(w) <= (6 / 7) ** 0.5
True
>>> get_initializer("he") is he_uniform
True
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

__all__ = [
    "Initializer",
    "INITIALIZERS",
    "get_initializer",
    "uniform",
    "normal",
    "xavier_uniform",
    "xavier_bound",
    "xavier_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "zeros",
]

Initializer = Callable[[int, int, random.Random], float]


def uniform(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """U(-1, 1), whatever the fan: micrograd's choice."""
    return rng.uniform(-1.0, 1.0)


def normal(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """N(0, 1), whatever the fan."""
    return rng.gauss(0.0, 1.0)


def xavier_bound(fan_in: int, fan_out: int) -> float:
    """The largest weight :func:`xavier_uniform` draws: ``sqrt(6 / (fan_in + fan_out))``.

    >>> round(xavier_bound(4, 3), 4)
    0.9258
    """
    return math.sqrt(6.0 / (fan_in + fan_out))


def xavier_uniform(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """Glorot & Bengio (2010): U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    a = xavier_bound(fan_in, fan_out)
    return rng.uniform(-a, a)


def xavier_normal(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """Glorot & Bengio (2010): N(0, 2 / (fan_in + fan_out))."""
    return rng.gauss(0.0, math.sqrt(2.0 / (fan_in + fan_out)))


def he_uniform(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """He et al. (2015), for ReLU: U(-a, a) with a = sqrt(6 / fan_in)."""
    a = math.sqrt(6.0 / fan_in)
    return rng.uniform(-a, a)


def he_normal(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """He et al. (2015), for ReLU: N(0, 2 / fan_in)."""
    return rng.gauss(0.0, math.sqrt(2.0 / fan_in))


def lecun_uniform(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """LeCun et al. (1998): U(-a, a) with a = sqrt(3 / fan_in), variance 1 / fan_in."""
    a = math.sqrt(3.0 / fan_in)
    return rng.uniform(-a, a)


def lecun_normal(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """LeCun et al. (1998): N(0, 1 / fan_in)."""
    return rng.gauss(0.0, math.sqrt(1.0 / fan_in))


def zeros(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """0.0: every neuron of a layer gets the same gradient and they never become different."""
    return 0.0


INITIALIZERS: dict[str, Initializer] = {
    "uniform": uniform,
    "normal": normal,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "lecun_uniform": lecun_uniform,
    "lecun_normal": lecun_normal,
    "zeros": zeros,
    "xavier": xavier_uniform,
    "glorot": xavier_uniform,
    "he": he_uniform,
    "kaiming": he_uniform,
    "lecun": lecun_uniform,
}
"""The initialisers by name (``nn.MLP(..., init="he")``); ``xavier``, ``glorot``, ``he``,
``kaiming`` and ``lecun`` name the uniform kind."""


def get_initializer(init: str | Initializer) -> Initializer:
    """The initialiser named ``init`` (see the table above), or ``init`` itself if callable.

    >>> get_initializer("zeros")(4, 3, random.Random(0))
    0.0
    """
    if callable(init):
        return init
    if not isinstance(init, str):
        raise TypeError(
            f"init must be a name or a callable (fan_in, fan_out, rng) -> float, "
            f"got {type(init).__name__}: {init!r}"
        )
    try:
        return INITIALIZERS[init]
    except KeyError:
        raise ValueError(
            f"unknown init {init!r}; choose one of {', '.join(sorted(INITIALIZERS))} "
            "or pass a callable (fan_in, fan_out, rng) -> float"
        ) from None
