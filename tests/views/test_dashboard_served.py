"""A served Dashboard (app.views.dashboard) over the real Bokeh protocol: what a session
keeps of its board once the browser has it."""

from __future__ import annotations

import json
import time

import pytest

from tests.support import RawSession, photon_server, wait_until

pytestmark = pytest.mark.server


def _board(doc_json: dict) -> tuple[str, list[dict]]:
    """(the board model's id, its snapshot's rows) in a pulled document."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            data = (node.get("attributes") or {}).get("data")
            if isinstance(data, dict) and "snapshot" in (data.get("attributes") or {}):
                found.append((node["id"], json.loads(data["attributes"]["snapshot"])))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc_json)
    assert len(found) == 1, f"{len(found)} boards in the document"
    return found[0]


def _snapshots_sent(content: dict) -> list[list[dict]]:
    return [json.loads(ev["new"]) for ev in content.get("events", ())
            if ev.get("kind") == "ModelChanged" and ev.get("attr") == "snapshot"]


class Viewer:
    """A RawSession that remembers every snapshot the server sent it."""

    def __init__(self, url: str):
        self.session = RawSession(url)
        self.board_id, self.first_rows = _board(self.session.doc)
        self.sent: list[list[dict]] = []

    def until(self, msgtype: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            header, content = self.session.recv_message()
            if header["msgtype"] == "PATCH-DOC":
                self.sent += _snapshots_sent(content)
            if header["msgtype"] == msgtype:
                return content
        raise AssertionError(f"no {msgtype} in {timeout} s")

    def repull(self) -> list[dict]:
        """The board's rows as a browser pulling the document again would get them."""
        self.session.send_message("PULL-DOC-REQ", {})
        return _board(self.until("PULL-DOC-REPLY"))[1]

    def ask_for_snapshot(self) -> list[dict]:
        """What board.js sends when a view is rendered; the full board it gets back."""
        ask = {"kind": "MessageSent", "msg_type": "bokeh_event",
               "msg_data": {"type": "event", "name": "data_event", "values": {
                   "type": "map", "entries": [
                       ["model", {"id": self.board_id}],
                       ["data", {"type": "map", "entries": [["type", "snapshot"]]}]]}}}
        self.session.send_message("PATCH-DOC", {"events": [ask]})
        before = len(self.sent)
        deadline = time.monotonic() + 20
        while len(self.sent) == before:
            assert time.monotonic() < deadline, "no snapshot after asking for one"
            self.until("PATCH-DOC")
        return self.sent[-1]

    def forgotten(self) -> list[dict] | None:
        """The rows a new pull gets, once they have no points; else None."""
        rows = self.repull()
        return rows if all("points" not in r for r in rows) else None


def test_a_session_keeps_its_sparklines_only_until_the_browser_has_them(tmp_path):
    with photon_server(tmp_path, env={"PHOTON_HISTORY": "off"}) as server:
        first = RawSession(server.url("/app?symbols=AAPL,TSLA"))  # the hub keeps points
        try:
            cycle = server.health()["cycle"]
            wait_until(lambda: server.health()["cycle"] > cycle + 5, what="hub cycles")
            viewer = Viewer(server.url("/app?symbols=AAPL,TSLA"))
            try:
                # First sight: the document carries every row with its points.
                assert [r["symbol"] for r in viewer.first_rows] == ["AAPL", "TSLA"]
                assert all(len(r["points"]) >= 2 for r in viewer.first_rows)
                # Once the browser has it, the server keeps the rows, not the points...
                kept = wait_until(viewer.forgotten, timeout=20, what="the points forgotten")
                assert [r["symbol"] for r in kept] == ["AAPL", "TSLA"]
                assert all(r["price"] for r in kept)
                # ...without telling the browser, whose board keeps its sparklines.
                assert viewer.sent == []
                # A view that asks for the board (board.js, on every render) gets all of
                # it, points included, and the server forgets them again.
                fresh = viewer.ask_for_snapshot()
                assert [r["symbol"] for r in fresh] == ["AAPL", "TSLA"]
                assert all(len(r["points"]) >= len(f["points"])
                           for r, f in zip(fresh, viewer.first_rows, strict=True))
                wait_until(viewer.forgotten, timeout=20, what="the points forgotten again")
                assert len(viewer.sent) == 1
            finally:
                viewer.session.close()
        finally:
            first.close()
