"""The lecture notes' order of a network's Values, and a check that a picture keeps it."""

from __future__ import annotations

# Top to bottom: each layer's outputs by j, each layer's weights grouped by the neuron j
# they feed, i within the group.
NOTES_ORDER = [
    ["O_11", "O_12", "O_13"],
    ["O_21", "O_22"],
    [f"w^1_{i}{j}" for j in (1, 2, 3) for i in (1, 2, 3, 4)],
    [f"w^2_{i}{j}" for j in (1, 2) for i in (1, 2, 3)],
    ["w^3_11", "w^3_21"],
]


def reads_in_order(centres: list[tuple[float, float]]) -> bool:
    """Centres (x, y growing downwards) that form one column read top to bottom or, in a
    picture drawn bottom up, one row read left to right."""
    xs, ys = [c[0] for c in centres], [c[1] for c in centres]
    if max(xs) - min(xs) < 1:
        return ys == sorted(ys) and len(set(ys)) == len(ys)
    return max(ys) - min(ys) < 1 and xs == sorted(xs) and len(set(xs)) == len(xs)
