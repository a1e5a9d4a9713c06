"""The Bokeh server protocol as the benchmark's clients speak it: the session token
and fast-lane URL in the page, outgoing messages, and the board's rows in a PATCH-DOC.

A Bokeh message is three text frames (header, metadata, content) plus two frames per
buffer. A client GETs the page, opens ``/app/ws`` with subprotocols ``["bokeh", token]``,
and after the ACK sends PULL-DOC-REQ (so the server treats it as a full client) and then
the ``document_ready`` event a browser sends (Panel starts periodic callbacks only then).
Used by the load clients (:mod:`bench.clients.photon_client`, :mod:`bench.clients.slow_client`), the
soak and the fault viewers; no I/O here.
"""

from __future__ import annotations

import json
import os
import re

import orjson

TOKEN_RE = re.compile(r'"token":\s*"([^"]+)"')
#: The board's fast-lane URL in the document (Photon's fast lane; empty: Bokeh deltas).
FAST_RE = re.compile(r'"fast_url":\s*"([^"]*)"')

_msgid = 0


def bokeh_msg(msgtype: str, content: dict) -> list[str]:
    global _msgid
    _msgid += 1
    return [json.dumps({"msgid": f"b{os.getpid()}-{_msgid}", "msgtype": msgtype}), "{}",
            json.dumps(content)]


DOCUMENT_READY = {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event",
                              "msg_data": {"type": "event", "name": "document_ready",
                                           "values": {"type": "map"}}}]}


def _map(v):
    """A Bokeh-serialized map ({"type": "map", "entries": [[k, v], ...]}) as a dict."""
    if isinstance(v, dict) and v.get("type") == "map":
        return dict(v.get("entries") or ())
    return v


def board_changes(content: dict):
    """(rows, points, cycle, at) from one PATCH-DOC's board events, or None without any."""
    found = None
    for ev in content.get("events", ()):
        kind = ev.get("kind")
        if kind == "MessageSent":  # Photon's board: a delta is a msg:custom (esm_event)
            data = ev.get("msg_data") or {}
            if data.get("name") != "esm_event":
                continue
            d = _map(data.get("values") or {}).get("data")
            d = orjson.loads(d) if isinstance(d, str) and d else _map(d)
            if d and isinstance(d, dict) and "rows" in d:
                rows = [_map(r) for r in d.get("rows") or ()]
                found = (rows, _map(d.get("points")) or {}, d.get("cycle"), d.get("at"))
            continue
        if kind != "ModelChanged":
            continue
        attr = ev.get("attr")
        if attr == "delta":  # older apps: the delta as a board property
            d = ev.get("new")
            # A Bokeh-serialized map, or (an app that sends the delta as text) JSON.
            d = orjson.loads(d) if isinstance(d, str) and d else _map(d)
            if not d or not isinstance(d, dict):
                continue
            rows = [_map(r) for r in d.get("rows") or ()]
            points = _map(d.get("points")) or {}
            found = (rows, points, d.get("cycle"), d.get("at"))
        elif attr in ("rows", "snapshot"):  # the full board (selection changed), with
            new = ev.get("new")                # points; JSON text since "snapshot"
            rows = [_map(r) for r in (orjson.loads(new) if isinstance(new, str) else new or ())]
            points = {r["symbol"]: r.get("points") or [] for r in rows}
            found = (rows, points, None, None)
    return found
