"""Who a request counts against: the user, else the address; proxies believed only if trusted."""

from __future__ import annotations

import pytest

from app.access.clients import client_address, client_key, parse_proxies, trusted

NGINX = parse_proxies("127.0.0.1, 10.0.0.0/8, ::1")


def test_proxies_are_addresses_and_networks():
    assert [str(n) for n in parse_proxies("127.0.0.1,10.1.2.3/8 , ,fd00::/8")] == [
        "127.0.0.1/32", "10.0.0.0/8", "fd00::/8"]
    with pytest.raises(ValueError, match="nginx"):
        parse_proxies("127.0.0.1,nginx")


def test_a_signed_in_user_is_the_client_whatever_the_address():
    assert client_key("ada", "1.2.3.4") == "user:ada"
    assert client_key("ada", "5.6.7.8", "9.9.9.9", NGINX) == "user:ada"
    assert client_key(None, "1.2.3.4") == "ip:1.2.3.4"
    assert client_key("", "1.2.3.4") == "ip:1.2.3.4"


def test_forwarded_for_is_ignored_from_an_untrusted_peer():
    assert client_address("203.0.113.5", "1.1.1.1", NGINX) == "203.0.113.5"
    assert client_address("203.0.113.5", "1.1.1.1", ()) == "203.0.113.5"


def test_forwarded_for_from_a_trusted_proxy_names_the_viewer():
    assert client_address("127.0.0.1", "198.51.100.7", NGINX) == "198.51.100.7"
    # the client wrote the left-most entry itself: only the proxy's own append counts
    assert client_address("127.0.0.1", "6.6.6.6, 198.51.100.7", NGINX) == "198.51.100.7"
    # a chain of trusted proxies is walked back to the first untrusted hop
    assert client_address("127.0.0.1", "198.51.100.7, 10.2.3.4", NGINX) == "198.51.100.7"


def test_garbage_in_forwarded_for_stops_the_walk():
    assert client_address("127.0.0.1", "<script>", NGINX) == "127.0.0.1"
    assert client_address("127.0.0.1", "198.51.100.7, junk", NGINX) == "127.0.0.1"
    assert client_address("127.0.0.1", "", NGINX) == "127.0.0.1"


def test_addresses_are_normalised():
    assert client_address("::ffff:127.0.0.1", "198.51.100.7", NGINX) == "198.51.100.7"
    assert client_address("::1", "[2001:db8::1]:443", NGINX) == "2001:db8::1"
    assert client_address("127.0.0.1", "198.51.100.7:5555", NGINX) == "198.51.100.7"
    assert trusted("10.9.9.9", NGINX) and not trusted("11.0.0.1", NGINX)
    assert not trusted("not an address", NGINX)


def test_a_user_named_like_an_address_is_not_that_address():
    assert client_key("1.2.3.4", "9.9.9.9") != client_key(None, "1.2.3.4")
