"""The embed's socket and pages (app.embed.spark_socket, app.embed.pages) on a real
Tornado server: the socket is the session (it subscribes on open, releases on close),
sends its row first, then the fast lane's updates and the feed's state."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import asynccontextmanager

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.web import Application
from tornado.websocket import websocket_connect

from app.embed import pages, spark_socket
from app.embed.pages import ROUTES
from app.hub.hub import Hub
from app.lanes import broadcast, fastlane
from app.views.status import status_values
from tests.support import free_port


@asynccontextmanager
async def served(hub: Hub, origins: frozenset[str] = frozenset()):
    """The embed's routes on a free port, on this test's loop, reading ``hub``."""
    lane = fastlane.install(hub, IOLoop.current())
    caster = broadcast.install(hub, status_values)
    pages.install(origins)
    pages._EmbedHandler.hub = spark_socket.SparkSocket.hub = hub
    port = free_port()
    server = HTTPServer(Application(ROUTES))
    server.listen(port, "127.0.0.1")
    try:
        yield f"127.0.0.1:{port}", lane, caster
    finally:
        server.stop()
        fastlane.uninstall()
        broadcast.uninstall()
        pages.install(frozenset())
        pages._EmbedHandler.hub = spark_socket.SparkSocket.hub = None


async def until(predicate, timeout: float = 5.0, what: str = "a state"):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)
    return value


async def next_message(ws) -> dict:
    text = await asyncio.wait_for(ws.read_message(), 5)
    assert text is not None, "the socket closed"
    return json.loads(text)


def open_socket(host: str, symbol: str, origin: str | None = None):
    headers = {"Origin": origin or f"http://{host}"}
    return websocket_connect(HTTPRequest(f"ws://{host}{spark_socket.PATH}?symbol={symbol}",
                                         headers=headers))


def test_the_socket_is_the_session_row_first_then_updates(hand_hub, manual_feed):
    async def main():
        async with served(hand_hub) as (host, lane, _):
            ws = await open_socket(host, "aapl")
            first = await next_message(ws)
            assert first["snapshot"]["symbol"] == "AAPL" and first["state"] == "live"
            assert first["note"] == ""
            assert hand_hub.refcounts() == {"AAPL": 1} and hand_hub.sessions == 1
            manual_feed.push("AAPL", 101.0, 1.0)
            await until(lambda: hand_hub.latest_quote("AAPL").last == 101.0, what="the tick")
            hand_hub.publish()  # a cycle (the hub's clock would call the lane)
            lane.fan_out()
            update = await next_message(ws)
            assert [r["symbol"] for r in update["rows"]] == ["AAPL"]
            assert update["rows"][0]["price"] == "$101.00" and update["rows"][0]["points"]
            ws.close()
            await until(lambda: hand_hub.sessions == 0, what="the session to end")
            assert hand_hub.refcounts() == {} and lane.sockets == 0
            assert ("unsubscribe", ["AAPL"]) in manual_feed.sent

    asyncio.run(main())


def test_the_feed_state_reaches_the_socket_when_it_changes(hand_hub, manual_feed):
    async def main():
        async with served(hand_hub) as (host, _, caster):
            ws = await open_socket(host, "TSLA")
            assert (await next_message(ws))["state"] == "live"
            manual_feed.stop()
            caster.tick()  # the broadcast's once-a-second read, now
            change = await next_message(ws)
            assert change["state"] == "stopped" and "showing the last prices" in change["note"]
            caster.tick()  # nothing new to say: nothing sent
            hand_hub.publish()
            ws.close()

    asyncio.run(main())


def test_unknown_symbols_and_other_sites_get_no_session(hand_hub):
    async def main():
        async with served(hand_hub, frozenset({"shop.test:8080"})) as (host, _, _):
            for raw in ("NOPE", "AAPL,TSLA", "", "<b>"):
                ws = await open_socket(host, raw)
                assert await ws.read_message() is None
                assert ws.close_code == spark_socket.UNKNOWN_SYMBOL, raw
            with pytest.raises(HTTPClientError) as refused:
                await open_socket(host, "AAPL", origin="http://evil.test")
            assert refused.value.code == 403
            ws = await open_socket(host, "AAPL", origin="http://shop.test:8080")  # allowed
            assert (await next_message(ws))["snapshot"]["symbol"] == "AAPL"
            ws.close()
            await until(lambda: hand_hub.sessions == 0, what="the session to end")

    asyncio.run(main())


def test_the_page_and_the_script_carry_the_price_and_no_bokeh(hand_hub, manual_feed):
    async def main():
        async with served(hand_hub, frozenset({"shop.test:8080"})) as (host, _, _):
            client = AsyncHTTPClient()
            hand_hub.acquire(["MSFT"])
            manual_feed.push("MSFT", 412.5, 1.0)
            await until(lambda: (q := hand_hub.latest_quote("MSFT")) and q.last, what="MSFT")
            page = await client.fetch(f"http://{host}/sparkline?symbol=MSFT&theme=dark")
            html = page.body.decode()
            assert "$412.50" in html and "MSFT live price" in html
            assert "bokeh.min.js" not in html and "<script src" not in html  # one request
            assert page.headers["Content-Security-Policy"] == (
                "frame-ancestors 'self' http://shop.test:8080 https://shop.test:8080")
            assert page.headers["Cache-Control"] == "no-store"
            script = await client.fetch(f"http://{host}/sparkline.js?symbol=MSFT",
                                        headers={"Referer": "http://shop.test:8080/a.html"})
            js = script.body.decode()
            assert "$412.50" in js and "</" not in js  # safe inside any <script>
            assert "<main" not in js.replace("\\u003c", "<")  # no landmark in their page
            refused = await client.fetch(f"http://{host}/sparkline.js?symbol=MSFT",
                                         headers={"Referer": "http://evil.test/"})
            assert b"may not embed" in refused.body and b"$412" not in refused.body
            with pytest.raises(HTTPClientError) as unknown:
                await client.fetch(f"http://{host}/sparkline?symbol=%3Cb%3E")
            assert unknown.value.code == 404
            assert b"&lt;B&gt;" in unknown.value.response.body
            assert b"<B>" not in unknown.value.response.body
            hand_hub.release(["MSFT"])

    asyncio.run(main())


def test_a_page_request_keeps_its_symbol_watched_for_the_socket(hand_hub, manual_feed,
                                                                 monkeypatch):
    monkeypatch.setattr(pages, "WARM_S", 0.3)

    async def main():
        async with served(hand_hub) as (host, _, _):
            await AsyncHTTPClient().fetch(f"http://{host}/sparkline?symbol=GOOGL")
            assert hand_hub.refcounts() == {"GOOGL": 1} and hand_hub.sessions == 0
            await until(lambda: hand_hub.refcounts() == {}, what="the claim to lapse")
            assert manual_feed.sent[-1] == ("unsubscribe", ["GOOGL"])

    asyncio.run(main())
