"""The kernel's side of a notebook widget's conversation, without a kernel.

ipywidgets talks to the front end over a comm (the ``comm`` package); ``Comms`` puts in
its place one that records every message a widget sends, and ``from_page`` delivers a
message as the front end sends one (JSON over the comm, into ipywidgets' own handler).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import comm
from comm.base_comm import BaseComm


class Comms:
    """Every message the widgets sent: ``(msg_type, data)``, oldest first."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def create(self, *args: Any, **kwargs: Any) -> BaseComm:
        outbox = self.sent

        class Recording(BaseComm):
            def publish_msg(
                self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                **keys: Any,
            ) -> None:  # fmt: skip
                outbox.append((msg_type, json.loads(json.dumps(data))))

        return Recording(*args, **kwargs)

    def opened(self, widget: Any) -> dict[str, Any]:
        """The state ``widget`` opened its comm with: what a front end starts from."""
        for msg_type, data in self.sent:
            if msg_type == "comm_open" and data["state"].get("_page") == widget._page:
                return data["state"]
        raise AssertionError("the widget opened no comm")

    def updates(self) -> list[dict[str, Any]]:
        """The states of the ``update`` messages sent since the last call (not the echoes of
        what the front end sent, which ipywidgets' front end drops or already holds)."""
        states = [
            data["state"]
            for msg_type, data in self.sent
            if msg_type == "comm_msg" and data["method"] == "update"
        ]
        self.sent.clear()
        return states


@contextmanager
def recording() -> Iterator[Comms]:
    """While open, widgets made talk to a :class:`Comms` (``comm.create_comm`` is the
    ``comm`` package's documented place for a front end's own comm)."""
    comms = Comms()
    original = comm.create_comm
    comm.create_comm = comms.create
    try:
        yield comms
    finally:
        comm.create_comm = original


def from_page(widget: Any, state: dict[str, Any]) -> None:
    """``state`` sent by the front end: as JSON, to the comm's handler, as a kernel would."""
    data = {"method": "update", "state": state, "buffer_paths": []}
    widget.comm.handle_msg(json.loads(json.dumps({"content": {"data": data}, "buffers": []})))
