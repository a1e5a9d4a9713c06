"""Security headers and cookie flags (app.access.headers): the pure parts, a tiny
Tornado app with the transform and the cookie flags, and a served Photon (signed in
with Panel's basic sign-in, so that its /login page and cookie are real)."""

from __future__ import annotations

import asyncio
import http.client
import re
from http.cookies import SimpleCookie

import pytest
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.web import Application, GZipContentEncoding, RequestHandler

from app.access import headers
from app.access.headers import (
    SecurityHeaders,
    content_security_policy,
    cookie_flags,
    inline_script_hashes,
    parse_policy,
    with_nonce,
)
from tests.support import free_port, photon_server

PAGE = (b'<!doctype html><script type="application/json" id="d">{"a": "<script>"}</script>'
        b'<script src="static/x.js"></script>'
        b'<script>var s = "<script>x</script" + ">";</script>'
        b'<script type="module">\r\nimport "./m.js"\r</script><p>hi</p>')


# -- the pure parts ---------------------------------------------------------------------

def test_every_script_element_gets_the_nonce_and_no_script_text_changes():
    html, inline = with_nonce(PAGE, "N0nce")
    assert inline
    assert html.count(b'<script nonce="N0nce"') == 4  # the four elements, not the text
    assert html.replace(b' nonce="N0nce"', b"") == PAGE
    assert b'"<script>x</script" + ">"' in html
    assert with_nonce(b'<p>no</p><script src="a.js"></script>', "N") == (
        b'<p>no</p><script nonce="N" src="a.js"></script>', False)  # nothing runs inline


def test_inline_scripts_are_hashed_as_browsers_hash_them():
    import base64
    import hashlib

    def source(text: bytes) -> str:
        return f"'sha256-{base64.b64encode(hashlib.sha256(text).digest()).decode()}'"

    # data blocks and external scripts are not hashed; line breaks read as \n
    assert inline_script_hashes(PAGE) == [source(b'var s = "<script>x</script" + ">";'),
                                          source(b'\nimport "./m.js"\n')]
    assert inline_script_hashes(b"<script>a</script><SCRIPT>a</SCRIPT >") == [source(b"a")]


def test_the_policy_keeps_what_the_handler_said_and_adds_the_rest():
    embed = "frame-ancestors 'self' http://shop.test:80 https://shop.test:80"
    policy = parse_policy(content_security_policy(embed, "/app", ["'nonce-abc'"]))
    assert policy == {"frame-ancestors": "'self' http://shop.test:80 https://shop.test:80",
                      "script-src": "'self' blob: 'nonce-abc'", "object-src": "'none'",
                      "base-uri": "'self'"}
    assert parse_policy(content_security_policy(None, "/health"))["frame-ancestors"] == "'none'"
    for login in ("/login", "/login/", "/prefix/login"):  # nobody frames a password form
        assert parse_policy(content_security_policy(embed, login))["frame-ancestors"] == (
            "'none'")
    assert parse_policy(content_security_policy("script-src 'none'", "/x"))["script-src"] == (
        "'none'")  # a handler's stricter word stands


def transformed(status: int, body: bytes, finishing: bool, path: str = "/app"):
    from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine

    request = HTTPServerRequest(start_line=RequestStartLine("GET", path, "HTTP/1.1"),
                                headers=HTTPHeaders({"Host": "127.0.0.1"}))
    headers = HTTPHeaders({"Content-Type": "text/html", "Content-Length": str(len(body)),
                           "Server": "TornadoServer/6.6.1"})
    return SecurityHeaders(request).transform_first_chunk(status, headers, body, finishing)


def test_the_transform_on_a_page_a_streamed_chunk_and_a_304():
    _, headers, body = transformed(200, PAGE, finishing=True)
    nonce = re.search(r"'nonce-([^']+)'", headers["Content-Security-Policy"]).group(1)
    assert body == with_nonce(PAGE, nonce)[0]
    assert headers["Content-Length"] == str(len(body)) and "Server" not in headers
    # the first of several chunks with a Content-Length: left as it is, allowed by hash
    _, headers, body = transformed(200, PAGE, finishing=False)
    assert body == PAGE
    assert parse_policy(headers["Content-Security-Policy"])["script-src"] == " ".join(
        ["'self'", "blob:", *inline_script_hashes(PAGE)])
    # a 304 keeps the policy of the page the browser kept: no new one
    _, headers, body = transformed(304, b"", finishing=True)
    assert "Content-Security-Policy" not in headers and "Server" not in headers
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("given", "tls", "always", "expected"), [
    ({}, False, False, {"httponly": True, "samesite": "Lax", "secure": False}),
    ({}, True, False, {"httponly": True, "samesite": "Lax", "secure": True}),
    ({}, False, True, {"httponly": True, "samesite": "Lax", "secure": True}),
    ({"httponly": False, "samesite": "None"}, False, False,
     {"httponly": True, "samesite": "Lax", "secure": False}),
    ({"samesite": "Strict", "max_age": 5}, False, False,
     {"httponly": True, "samesite": "Strict", "secure": False, "max_age": 5}),
    ({"HttpOnly": False, "Secure": True}, False, False,  # Tornado's old spellings
     {"httponly": True, "samesite": "Lax", "secure": True}),
])
def test_cookie_flags(given, tls, always, expected):
    assert cookie_flags(given, tls, always) == expected


# -- a tiny Tornado app -----------------------------------------------------------------

class SetsCookies(RequestHandler):
    def get(self) -> None:
        self.set_cookie("plain", "1")
        self.set_cookie("strict", "1", samesite="Strict")
        self.set_cookie("loose", "1", httponly=False, samesite="None")
        self.set_signed_cookie("user", "ann")
        self.finish(PAGE * 40)  # big enough to be gzipped


def cookies(response) -> dict[str, dict[str, object]]:
    """Each Set-Cookie of ``response`` by name: its attributes as ``SimpleCookie`` reads them."""
    out = {}
    for line in response.headers.get_list("Set-Cookie"):
        jar = SimpleCookie()
        jar.load(line)
        (name, morsel), = jar.items()
        out[name] = {k: morsel[k] for k in ("httponly", "samesite", "secure")}
    return out


def test_a_tornado_app_gets_the_headers_and_every_cookie_the_flags(monkeypatch):
    monkeypatch.setattr(RequestHandler, "set_cookie", RequestHandler.set_cookie)  # undone after
    monkeypatch.setattr(headers.CookiePolicy, "always_secure", False)
    headers.install_cookie_flags()

    async def main():
        app = Application([("/", SetsCookies)], cookie_secret="test only",
                          transforms=[SecurityHeaders, GZipContentEncoding])
        port = free_port()
        server = HTTPServer(app, xheaders=True)  # X-Forwarded-Proto sets request.protocol
        server.listen(port, "127.0.0.1")
        client = AsyncHTTPClient()
        try:
            plain = await client.fetch(f"http://127.0.0.1:{port}/")
            proxied = await client.fetch(f"http://127.0.0.1:{port}/",
                                         headers={"X-Forwarded-Proto": "https"})
            headers.configure(cookie_secure=True)
            behind_tls = await client.fetch(f"http://127.0.0.1:{port}/")
        finally:
            server.stop()
        return plain, proxied, behind_tls

    plain, proxied, behind_tls = asyncio.run(main())
    assert set(cookies(plain)) == {"plain", "strict", "loose", "user"}
    for name, flags in cookies(plain).items():
        assert flags["httponly"] is True, name
        assert flags["secure"] == "", name
        assert flags["samesite"] == ("Strict" if name == "strict" else "Lax"), name
    for response in (proxied, behind_tls):
        assert all(f["secure"] is True for f in cookies(response).values())
    # the page was gzipped after the nonce went on: the header's nonce is the page's
    assert plain.headers["X-Consumed-Content-Encoding"] == "gzip"  # the client unzipped it
    nonce = re.search(r"'nonce-([^']+)'", plain.headers["Content-Security-Policy"]).group(1)
    assert plain.body.count(f'<script nonce="{nonce}"'.encode()) == 4 * 40
    assert "Server" not in plain.headers
    assert plain.headers["X-Content-Type-Options"] == "nosniff"
    assert plain.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert proxied.headers["Content-Security-Policy"] != plain.headers["Content-Security-Policy"]


# -- a served Photon ----------------------------------------------------------------------

PASSWORD = "correct horse battery"  # Panel lower-cases PANEL_BASIC_AUTH
EMBEDDER = "shop.test:8080"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    env = {"PANEL_BASIC_AUTH": PASSWORD, "PANEL_COOKIE_SECRET": "test cookie secret 0123456789",
           "PHOTON_EMBED_ORIGINS": EMBEDDER, "PHOTON_HISTORY": "off"}
    with photon_server(tmp_path_factory.mktemp("headers"), env=env,
                       args=("--use-xheaders",)) as server:
        yield server


def fetch(server, path: str, method: str = "GET", body: str | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request, redirects not followed."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def sign_in(server, headers: dict[str, str] | None = None) -> list[str]:
    """Panel's basic sign-in form, posted: the Set-Cookie lines of its answer."""
    status, answer, _ = fetch(server, "/login", "POST",
                              body=f"username=ann&password={PASSWORD.replace(' ', '+')}",
                              headers={"Content-Type": "application/x-www-form-urlencoded",
                                       **(headers or {})})
    assert status == 302, status
    return answer.get_all("Set-Cookie")


def assert_common(answer: http.client.HTTPMessage, path: str) -> dict[str, str]:
    assert "Server" not in answer, (path, answer["Server"])
    assert answer["X-Content-Type-Options"] == "nosniff", path
    assert answer["Referrer-Policy"] == "strict-origin-when-cross-origin", path
    assert len(answer.get_all("Content-Security-Policy")) == 1, path
    return parse_policy(answer["Content-Security-Policy"])


def assert_scripts_carry_the_nonce(policy: dict[str, str], body: bytes) -> None:
    nonce = re.fullmatch(r"'self' blob: 'nonce-([^']+)'", policy["script-src"]).group(1)
    tags = re.findall(rb"<script\b[^>]*>", body)
    assert tags and all(t.startswith(f'<script nonce="{nonce}"'.encode()) for t in tags)


@pytest.mark.server
def test_every_door_answers_with_the_headers(served):
    embed_policy = f"'self' http://{EMBEDDER} https://{EMBEDDER}"

    status, answer, body = fetch(served, "/login")
    assert status == 200 and b"password" in body  # Panel's sign-in form
    assert assert_common(answer, "/login")["frame-ancestors"] == "'none'"

    cookie = "; ".join(c.split(";")[0] for c in sign_in(served) if c.startswith(("user=",
                                                                              "id_token=")))
    status, answer, body = fetch(served, "/app", headers={"Cookie": cookie})
    assert status == 200 and b"Bokeh" in body
    policy = assert_common(answer, "/app")
    assert policy["frame-ancestors"] == embed_policy
    assert_scripts_carry_the_nonce(policy, body)

    status, answer, body = fetch(served, "/sparkline?symbol=AAPL")
    assert status == 200
    policy = assert_common(answer, "/sparkline")
    assert policy["frame-ancestors"] == embed_policy
    assert_scripts_carry_the_nonce(policy, body)

    static = re.search(rb'src="(static/js/bokeh\.min\.js[^"]*)"',
                       fetch(served, "/app", headers={"Cookie": cookie})[2]).group(1).decode()
    for path in ("/health", "/" + static, "/no-such-page"):
        status, answer, _ = fetch(served, path)
        assert status == (404 if path == "/no-such-page" else 200), path
        policy = assert_common(answer, path)
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
        assert policy["script-src"] == "'self' blob:"  # no inline script to allow


@pytest.mark.server
def test_served_cookies_are_httponly_lax_and_secure_behind_tls(served):
    for proto, secure in (({}, False), ({"X-Forwarded-Proto": "https"}, True)):
        lines = sign_in(served, proto)
        assert any(line.startswith("user=") for line in lines)
        for line in lines:
            attrs = [a.strip().lower() for a in line.split(";")[1:]]
            assert "httponly" in attrs and "samesite=lax" in attrs, line
            assert ("secure" in attrs) is secure, line


@pytest.mark.server
def test_only_listed_sites_may_read_the_sparkline_script(served):
    path = "/sparkline.js?symbol=AAPL"
    status, answer, _ = fetch(served, path, headers={"Origin": f"http://{EMBEDDER}"})
    assert status == 200 and answer["Access-Control-Allow-Origin"] == f"http://{EMBEDDER}"
    assert "Origin" in answer["Vary"]
    for origin in ("http://evil.test", "null", f"http://{EMBEDDER}.evil.test", None):
        status, answer, _ = fetch(served, path, headers={"Origin": origin} if origin else {})
        assert status == 200 and "Access-Control-Allow-Origin" not in answer, origin
        assert "Origin" in answer["Vary"]
