import pytest

from app.embed import origin_allowed, parse_origins, server_root, websocket_hosts


def test_parse_origins_normalises_and_refuses_wildcards():
    assert parse_origins(" https://Blog.Example/ , http://a:8000") == (
        "https://blog.example", "http://a:8000")
    assert parse_origins("") == ()
    for bad in ("*", "https://*.example", "blog.example", "ftp://a", "http://a/path"):
        with pytest.raises(ValueError):
            parse_origins(bad)


def test_websocket_hosts_have_ports():
    assert websocket_hosts(("https://blog.example", "http://a:8000", "http://b")) == [
        "blog.example:443", "a:8000", "b:80"]


def test_origin_allowed_own_and_listed_only():
    listed = ("http://127.0.0.1:9000",)
    assert origin_allowed("http://127.0.0.1:5006", "127.0.0.1:5006", ())
    assert origin_allowed("http://127.0.0.1:9000", "127.0.0.1:5006", listed)
    assert not origin_allowed("http://127.0.0.1:9001", "127.0.0.1:5006", listed)
    assert not origin_allowed("http://evil.example", "127.0.0.1:5006", ())
    assert origin_allowed("", "127.0.0.1:5006", ())  # no browser, no origin


def test_server_root_from_app_and_autoload_paths():
    assert server_root("h:1", "/app", "app") == "//h:1"
    assert server_root("h", "/photon/app", "app") == "//h/photon"
    assert server_root("h:1", "/sparkline/autoload.js", "sparkline") == "//h:1"
    assert server_root("h:1", "/x/sparkline", "sparkline") == "//h:1/x"
