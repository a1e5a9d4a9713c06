"""Load worker: holds N live sessions against one server and measures what they receive.

Run by :mod:`bench.run` as a subprocess (one or more per cell), it speaks a line
protocol: it prints JSON events on stdout and reads one command on stdin.

1. connect sessions in ramped batches (each batch must be live before the next);
   print ``{"event": "ramped", ...}``;
2. read ``{"w0": t, "w1": t, "end": t}`` (Unix seconds): the measurement window;
3. count what arrives until ``end``, close every session, print ``{"event": "result", ...}``.

Targets:

``photon``
    Real Bokeh sessions: GET /app?symbols=..., take the session token from the page,
    open /app/ws with subprotocols ["bokeh", token], and speak the Bokeh protocol
    (each message is header, metadata, content text frames plus 2 frames per buffer).
    After the ACK: PULL-DOC-REQ (so the server treats us as a full client), then the
    ``document_ready`` event a browser sends (Panel starts periodic callbacks only
    then). PATCH-DOC messages are decoded; ``MessageSent`` ``esm_event`` messages of the
    board (its ``msg:custom`` deltas; older apps: ``ModelChanged`` events on attr ``delta``)
    and ``ModelChanged`` on ``rows`` carry the board's rows and points, the hub ``cycle`` and
    its publication time ``at``. With the fast lane, its JSON messages carry the same.
``tornado``
    bench/ref_tornado.py: one JSON text frame per session per cycle.
``socketio``
    bench/ref_socketio.py through python-socketio's AsyncClient: one ``tick`` event
    per changed symbol per cycle, rooms joined with a ``join`` event.

Slow clients (``--slow M``, photon only) complete the handshake and the document
request with a 4 KiB receive buffer, then never read the socket again.

Each update's latency (receipt - row ``ts``) is split at ``at`` into the wait for the
hub cycle (``at - ts``) and the delivery (receipt - ``at``). Per session it also records
what the viewer saw in the window: the hub cycles published in it that it received
(``updates``; by publication time ``at``, so a window of k intervals holds k) and the
longest wait between two updates (``max_gap``, :class:`bench.common.GapMeter`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import re
import socket
import struct
import sys
import time
from urllib.parse import urljoin, urlsplit

import aiohttp
import orjson

from bench.common import GapMeter, Histogram, symbols_for, universe

TOKEN_RE = re.compile(r'"token":\s*"([^"]+)"')
#: The board's fast-lane URL in the document (Photon's fast lane; empty: Bokeh deltas).
FAST_RE = re.compile(r'"fast_url":\s*"([^"]*)"')
INF = float("inf")


class Window:
    w0 = INF
    w1 = INF
    end = INF


W = Window()
HIST = Histogram()  # tick-to-client: receipt - row ts, per update
WAIT = Histogram()  # at - row ts: the wait for the hub cycle that published it
DELIV = Histogram()  # receipt - at: from publication to the client
#: Every sparkline point seen, per symbol: the hub appends exactly one point per cycle
#: in which a symbol's price or tick time changed, so this is the hub's publication log.
PUBLOG: dict[str, set[float]] = {}
CYCLES: list[int] = []  # [min, max] hub cycle of deltas that arrived inside the window
#: Newest tick time among all rows of messages labelled with each hub cycle: that cycle
#: was published within one mock step (50 ms) after it. Only for messages without the
#: cycle's publication time ``at`` (an app from before it), as an estimate of ``at``.
CYCLE_NEWEST: dict[int, float] = {}
#: (cycle, row ts, receipt) of counted updates whose message had no ``at``.
NO_AT: list[tuple[int, float, float]] = []
#: Messages inside the window that carried no board update, by type and changed attrs.
OTHER: dict[str, int] = {}


class Session:
    __slots__ = ("i", "symbols", "ok", "ready", "delivered", "msgs", "delta_msgs", "frames",
                 "bytes", "last_ts", "err", "t_ready", "ws", "task", "transport", "fast",
                 "port", "cycles", "updates", "gaps", "max_gap")

    def __init__(self, i: int, symbols: list[str]):
        self.i = i
        self.symbols = symbols
        self.ok = False
        self.ready = asyncio.Event()
        self.delivered = 0
        self.msgs = 0
        self.delta_msgs = 0
        self.frames = 0
        self.bytes = 0
        self.last_ts: dict[str, float] = {}
        self.err = ""
        self.t_ready = None
        self.ws = None
        self.task = None
        self.transport = ""
        self.fast = None  # the fast-lane socket's task, when the page uses one
        self.port = None  # local ports (slow clients)
        self.cycles: set[int] = set()  # hub cycles of the update messages in the window
        #: Hub cycles published in the window (``at`` in [w0, w1), else receipt) and
        #: received by the end of the drain: the board updates this viewer got.
        self.updates: set[int] = set()
        self.gaps = GapMeter()  # receipts of the messages that carried an update
        self.max_gap = 0.0  # longest wait between two of them in the window (at its end)

    def summary(self) -> dict:
        return {"i": self.i, "ok": self.t_ready is not None, "delivered": self.delivered,
                "msgs": self.msgs, "delta_msgs": self.delta_msgs, "frames": self.frames,
                "bytes": self.bytes, "err": self.err, "transport": self.transport,
                "cycles": len(self.cycles), "updates": len(self.updates),
                "max_gap": round(self.max_gap, 4),
                "port": self.port}


def on_rows(sess: Session, rows, points, now: float, cycle=None, at=None) -> int:
    """Account one cycle's rows; returns how many were new updates.

    ``at``: the wall-clock time the hub published the message's ``cycle``; each counted
    update then also splits its latency into the wait for that cycle (``at - ts``) and
    the delivery (``now - at``). Without it (an older app) the split is estimated at the
    end from the newest tick time seen for the cycle."""
    for sym, pts in points.items():
        log = PUBLOG.get(sym)
        if log is None:
            log = PUBLOG[sym] = set()
        for p in pts:
            log.add(p[0])
    new = 0
    w0, w1 = W.w0, W.w1
    for r in rows:
        ts = r.get("ts")
        if ts is None:
            continue
        sym = r["symbol"]
        if sess.last_ts.get(sym) == ts:
            continue  # republished without a new trade: not an update
        sess.last_ts[sym] = ts
        new += 1
        if w0 <= ts <= w1 and now <= W.end:
            sess.delivered += 1
            HIST.add(now - ts)
            if at:
                WAIT.add(at - ts)
                DELIV.add(now - at)
            elif cycle is not None:
                NO_AT.append((cycle, ts, now))
    if new:  # what a viewer sees: time between two updates
        sess.gaps.update(now, W.w0, W.w1)
    return new


def note_cycle(cycle, now: float) -> None:
    if cycle is None or not (W.w0 <= now <= W.w1):
        return
    if not CYCLES:
        CYCLES.extend((cycle, cycle))
    else:
        CYCLES[0] = min(CYCLES[0], cycle)
        CYCLES[1] = max(CYCLES[1], cycle)


# -- the Bokeh protocol -------------------------------------------------------
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


def count_msg(sess: Session, now: float, frames: int, nbytes: int) -> bool:
    """Count one message arriving at ``now``; True when inside the window."""
    if W.w0 <= now <= W.w1:
        sess.msgs += 1
        sess.frames += frames
        sess.bytes += nbytes
        return True
    return False


def on_cycle_rows(sess: Session, rows, points, cycle, now: float, in_window: bool,
                  at=None) -> None:
    on_rows(sess, rows, points, now, cycle, at)
    if cycle is not None and rows and W.w0 <= (at or now) < W.w1 and now <= W.end:
        sess.updates.add(cycle)
    if in_window:
        sess.delta_msgs += 1
        note_cycle(cycle, now)
        if cycle is not None:
            sess.cycles.add(cycle)
    if cycle is not None and rows and not at:
        newest = max((r.get("ts") or 0.0) for r in rows)
        if newest > CYCLE_NEWEST.get(cycle, 0.0):
            CYCLE_NEWEST[cycle] = newest
    if cycle is not None and not sess.ready.is_set():
        sess.t_ready = now
        sess.ready.set()


async def fast_lane(sess: Session, http: aiohttp.ClientSession, url: str) -> None:
    """Photon's fast lane: one JSON text frame per cycle, rows with their points inline."""
    ws = await http.ws_connect(url, max_msg_size=0, compress=0)
    async for msg in ws:
        if msg.type != aiohttp.WSMsgType.TEXT:
            break
        now = time.time()
        in_w = count_msg(sess, now, 1, len(msg.data))
        data = orjson.loads(msg.data)
        rows = data.get("rows") or []
        points = {r["symbol"]: r.get("points") or [] for r in rows}
        on_cycle_rows(sess, rows, points, data.get("cycle"), now, in_w, data.get("at"))


def start_fast_lane(sess: Session, http, page_url: str, fast_url: str) -> None:
    if sess.fast is not None:
        sess.fast.cancel()
        sess.fast = None
    if not fast_url:
        sess.transport = "bokeh"
        return
    sess.transport = "fast"
    url = urljoin(page_url, fast_url).replace("http", "ws", 1)

    async def run():
        try:
            await fast_lane(sess, http, url)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - recorded per session
            sess.err = sess.err or f"fast lane: {type(e).__name__}: {e}"[:200]

    sess.fast = asyncio.create_task(run())


async def photon_session(sess: Session, http: aiohttp.ClientSession, base: str) -> None:
    url = f"{base}/app?symbols={','.join(sess.symbols)}"
    async with http.get(url) as r:
        html = await r.text()
    m = TOKEN_RE.search(html)
    if not m:
        raise RuntimeError(f"no session token in page (HTTP {r.status})")
    ws = await http.ws_connect(base.replace("http", "ws", 1) + "/app/ws",
                               protocols=("bokeh", m.group(1)), max_msg_size=0,
                               compress=0, autoping=True, autoclose=True)
    sess.ws = ws
    frames: list = []
    expect = 3
    hdr = None
    async for msg in ws:
        if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            break
        frames.append(msg.data)
        if len(frames) == 1:
            hdr = orjson.loads(msg.data)
            expect = 3 + 2 * hdr.get("num_buffers", 0)
        if len(frames) < expect:
            continue
        now = time.time()
        kind = hdr["msgtype"]
        in_w = count_msg(sess, now, len(frames), sum(len(f) for f in frames))
        if kind == "PATCH-DOC":
            content = orjson.loads(frames[2])
            found = board_changes(content)
            if found is not None:
                rows, points, cycle, at = found
                on_cycle_rows(sess, rows, points, cycle, now, in_w, at)
            elif in_w:
                key = "PATCH-DOC " + ",".join(sorted({str(ev.get("attr") or ev.get("kind"))
                                                      for ev in content.get("events", ())}))
                OTHER[key] = OTHER.get(key, 0) + 1
            for ev in content.get("events", ()):
                if ev.get("attr") == "fast_url":
                    start_fast_lane(sess, http, url, ev.get("new") or "")
        elif kind == "ACK":
            for f in bokeh_msg("PULL-DOC-REQ", {}):
                await ws.send_str(f)
        elif kind == "PULL-DOC-REPLY":
            m = FAST_RE.search(frames[2])
            start_fast_lane(sess, http, url, m.group(1) if m else "")
            for f in bokeh_msg("PATCH-DOC", DOCUMENT_READY):
                await ws.send_str(f)
        elif in_w:
            OTHER[kind] = OTHER.get(kind, 0) + 1
        if kind == "ERROR":
            sess.err = orjson.loads(frames[2]).get("text", "ERROR")[:200]
        frames = []


async def tornado_session(sess: Session, http: aiohttp.ClientSession, base: str) -> None:
    url = base.replace("http", "ws", 1) + f"/ws?symbols={','.join(sess.symbols)}"
    ws = await http.ws_connect(url, max_msg_size=0, compress=0)
    sess.ws = ws
    sess.transport = "tornado"
    async for msg in ws:
        if msg.type != aiohttp.WSMsgType.TEXT:
            break
        now = time.time()
        data = orjson.loads(msg.data)
        in_w = count_msg(sess, now, 1, len(msg.data))
        if "points" in data:
            on_cycle_rows(sess, data["rows"], data["points"], data.get("cycle"), now, in_w,
                          data.get("at"))
        else:  # snapshot
            on_rows(sess, data["rows"], {r["symbol"]: r.get("points") or []
                                         for r in data["rows"]}, now)


async def socketio_session(sess: Session, http: aiohttp.ClientSession, base: str) -> None:
    import logging

    import socketio

    # "packet queue is empty, aborting" per client at close: noise, not a result.
    logging.getLogger("engineio.client").setLevel(logging.ERROR)

    client = socketio.AsyncClient(reconnection=False, http_session=http, handle_sigint=False)
    sess.ws = client
    sess.transport = "socketio"

    @client.on("tick")
    async def tick(data):
        now = time.time()
        # Payload size as sent: '42["tick",<json>]' (the JSON re-encoded here).
        in_w = count_msg(sess, now, 1, 10 + len(orjson.dumps(data)))
        on_cycle_rows(sess, [data], {data["symbol"]: data.get("points") or []},
                      data.get("cycle"), now, in_w, data.get("at"))
        if not sess.ready.is_set():
            sess.t_ready = now
            sess.ready.set()

    await client.connect(base, transports=["websocket"], wait_timeout=30)
    await client.emit("join", {"symbols": sess.symbols})
    await client.wait()


# -- slow clients: a raw socket that stops reading ---------------------------------
def _mask_frame(text: str) -> bytes:
    payload = text.encode()
    n = len(payload)
    head = bytes([0x81])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    return await reader.readexactly(n)


async def raw_ws(base: str, path: str, rcvbuf: int, protocols: str = ""):
    """A client WebSocket on a raw socket with a small receive buffer: (reader, writer, port)."""
    parts = urlsplit(base)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    proto = f"Sec-WebSocket-Protocol: {protocols}\r\n" if protocols else ""
    writer.write((f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\n{proto}\r\n").encode())
    await writer.drain()
    status = await reader.readuntil(b"\r\n\r\n")
    if b" 101 " not in status.split(b"\r\n", 1)[0]:
        writer.close()
        raise RuntimeError(f"WebSocket upgrade refused: {status[:80]!r}")
    return reader, writer, sock.getsockname()[1]


async def _read_msg(reader: asyncio.StreamReader) -> tuple[dict, list[bytes]]:
    """One Bokeh message (header, metadata, content, buffers) from a raw socket."""
    frames = [await _read_frame(reader)]
    hdr = orjson.loads(frames[0])
    for _ in range(2 + 2 * hdr.get("num_buffers", 0)):
        frames.append(await _read_frame(reader))
    return hdr, frames


async def slow_session(sess: Session, http: aiohttp.ClientSession, base: str,
                       rcvbuf: int = 4096) -> None:
    """Open a full Photon session, then never read from its socket(s) again."""
    page = f"{base}/app?symbols={','.join(sess.symbols)}"
    async with http.get(page) as r:
        html = await r.text()
    token = TOKEN_RE.search(html).group(1)
    reader, writer, port = await raw_ws(base, "/app/ws", rcvbuf, f"bokeh, {token}")
    sess.port = [port]
    sess.ws = writer
    sess.transport = "bokeh"
    hdr, _ = await _read_msg(reader)
    if hdr.get("msgtype") != "ACK":
        raise RuntimeError(f"slow client expected ACK, got {hdr}")
    for f in bokeh_msg("PULL-DOC-REQ", {}):
        writer.write(_mask_frame(f))
    await writer.drain()
    while True:
        hdr, frames = await _read_msg(reader)
        if hdr.get("msgtype") == "PULL-DOC-REPLY":
            break
    m = FAST_RE.search(frames[2].decode())
    writers = [writer]
    if m and m.group(1):  # the fast lane: open it too, and stop reading it as well
        path = urlsplit(urljoin(page, m.group(1)))
        _r, fw, port = await raw_ws(base, f"{path.path}?{path.query}", rcvbuf)
        sess.port.append(port)
        sess.transport = "fast"
        writers.append(fw)
    for f in bokeh_msg("PATCH-DOC", DOCUMENT_READY):
        writer.write(_mask_frame(f))
    await writer.drain()
    for w in writers:  # from here on the kernel buffers fill, then the server's
        w.transport.pause_reading()
    sess.ws = writers
    sess.ok = True
    sess.t_ready = time.time()
    sess.ready.set()
    await asyncio.sleep(INF)


RUNNERS = {"photon": photon_session, "tornado": tornado_session,
           "socketio": socketio_session}


async def run_one(sess: Session, runner, http, base) -> None:
    try:
        await runner(sess, http, base)
    except asyncio.CancelledError:
        raise
    except Exception as e:  # noqa: BLE001 - recorded per session, reported in the table
        sess.err = sess.err or f"{type(e).__name__}: {e}"[:200]
    finally:
        sess.ready.set()


async def close(sess: Session) -> None:
    ws = sess.ws
    try:
        if isinstance(ws, list):
            for w in ws:
                w.close()
        elif isinstance(ws, asyncio.StreamWriter):
            ws.close()
        elif ws is not None and hasattr(ws, "disconnect"):
            await asyncio.wait_for(ws.disconnect(), 5)
        elif ws is not None:
            await asyncio.wait_for(ws.close(), 5)
    except Exception:  # noqa: BLE001, S110 - closing anyway
        pass
    if sess.fast is not None:
        sess.fast.cancel()
    if sess.task is not None:
        sess.task.cancel()


async def ramp(sessions: list[Session], runner, http, base: str, batch: int,
               timeout: float, session_timeout: float) -> None:
    """Start ``sessions`` in batches of ``batch``, each batch live (or failed, or
    ``session_timeout`` past) before the next starts; stop starting after ``timeout``."""
    deadline = time.monotonic() + timeout
    for b in range(0, len(sessions), batch):
        group = sessions[b:b + batch]
        for s in group:
            s.task = asyncio.create_task(run_one(s, runner, http, base))
        left = deadline - time.monotonic()
        if left <= 0:
            break
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in group)),
                                   min(left, session_timeout))


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main(args) -> None:
    syms = universe()
    runner = RUNNERS[args.server]
    conn = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=None)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as http:
        sessions = [Session(args.first + j, symbols_for(args.first + j, args.k, syms))
                    for j in range(args.count)]
        t0 = time.monotonic()
        await ramp(sessions, runner, http, args.base, args.batch, args.ramp_timeout,
                   args.session_timeout)
        ramp_s = time.monotonic() - t0
        slow = [Session(-1 - j, symbols_for(j, args.k, syms)) for j in range(args.slow)]
        for s in slow:
            s.task = asyncio.create_task(run_one(s, slow_session, http, args.base))
        if slow:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in slow)), 60)
        emit({"event": "ramped", "ready": sum(s.ready.is_set() and not s.err
                                              for s in sessions),
              "ramp_s": round(ramp_s, 2), "slow_ok": sum(s.ok for s in slow),
              "slow_ports": [p for s in slow for p in (s.port or [])],
              "errors": sorted({s.err for s in sessions + slow if s.err})[:5]})

        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        if not line.strip():
            return
        cmd = json.loads(line)
        W.w0, W.w1, W.end = cmd["w0"], cmd["w1"], cmd["end"]
        await asyncio.sleep(max(0.0, W.end - time.time()))
        for s in sessions:
            s.max_gap = s.gaps.close(W.w0, W.w1)
        W.w0 = W.w1 = INF  # stop counting
        await asyncio.gather(*(close(s) for s in sessions + slow))
        await asyncio.sleep(0.2)

    publog = {sym: sorted(t for t in ts if cmd["w0"] <= t <= cmd["w1"])
              for sym, ts in PUBLOG.items()}
    estimated = 0
    for cycle, ts, arrival in NO_AT:  # no 'at': the cycle's newest tick stands in for it
        newest = CYCLE_NEWEST.get(cycle)
        if newest:
            WAIT.add(newest - ts)
            DELIV.add(arrival - newest)
            estimated += 1
    emit({"event": "result", "sessions": [s.summary() for s in sessions],
          "hist": HIST.to_json(), "wait": WAIT.to_json(), "deliv": DELIV.to_json(),
          "at_estimated": estimated, "publog": publog,
          "cycles": CYCLES, "other": OTHER,
          "slow": [s.summary() for s in slow],
          "errors": sorted({s.err for s in sessions + slow if s.err})[:5]})


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server", choices=sorted(RUNNERS), required=True)
    p.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    p.add_argument("--first", type=int, default=0, help="index of the first session")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--k", type=int, default=10, help="symbols per session")
    p.add_argument("--batch", type=int, default=20, help="sessions connected at once")
    p.add_argument("--slow", type=int, default=0, help="slow clients (never read)")
    p.add_argument("--ramp-timeout", type=float, default=300.0)
    p.add_argument("--session-timeout", type=float, default=60.0)
    return p.parse_args(argv)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(parse()))
