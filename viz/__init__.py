"""Graphviz renderings of the chain-rule graph (see issue 4)."""
