"""Slow clients (``bench.clients.load --slow M``, photon only): a raw-socket WebSocket with a
4 KiB receive buffer that completes the handshake and the document request, opens the
fast lane if the page has one, then never reads the socket(s) again, so the kernel
buffers fill and then the server's.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
import time
from urllib.parse import urljoin, urlsplit

import aiohttp
import orjson

from bench.clients.bokeh_protocol import DOCUMENT_READY, FAST_RE, TOKEN_RE, bokeh_msg
from bench.clients.load_stats import INF, Session


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


async def raw_ws(base: str, path: str, rcvbuf: int, protocols: str = "",
                 headers: dict[str, str] | None = None):
    """A client WebSocket on a raw socket with a small receive buffer: (reader, writer, port).
    ``headers``: more request headers (e.g. ``X-Forwarded-For`` behind a trusted proxy)."""
    parts = urlsplit(base)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    proto = f"Sec-WebSocket-Protocol: {protocols}\r\n" if protocols else ""
    proto += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
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
                       rcvbuf: int = 4096, headers: dict[str, str] | None = None) -> None:
    """Open a full Photon session, then never read from its socket(s) again."""
    page = f"{base}/app?symbols={','.join(sess.symbols)}"
    async with http.get(page, headers=headers) as r:
        html = await r.text()
    token = TOKEN_RE.search(html).group(1)
    reader, writer, port = await raw_ws(base, "/app/ws", rcvbuf, f"bokeh, {token}", headers)
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
        _r, fw, port = await raw_ws(base, f"{path.path}?{path.query}", rcvbuf, "", headers)
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
