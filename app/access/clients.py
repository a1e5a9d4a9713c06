"""Who a request counts against: the signed-in user, else the address it came from.

Limits (tabs per client, /history's rate) are kept per *client*. Behind a reverse
proxy (the nginx of ``deploy/``) every request arrives from the proxy's address, so
the viewer's address is taken from ``X-Forwarded-For`` - but only when the peer is a
proxy the operator listed in ``PHOTON_TRUSTED_PROXIES``: anyone else could write any
address there and get a fresh allowance with each request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

from app.access import identity

if TYPE_CHECKING:
    from tornado.web import RequestHandler

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(raw: str) -> tuple[Network, ...]:
    """``PHOTON_TRUSTED_PROXIES``: comma-separated addresses or CIDR networks.

    Raises ValueError naming the first item that is neither.
    """
    nets = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network") from None
    return tuple(nets)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[::1]:443" as some proxies write it
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "1.2.3.4:5678"
        text = text.split(":", 1)[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(addr, "ipv4_mapped", None)  # "::ffff:1.2.3.4" is 1.2.3.4
    return mapped or addr


def trusted(addr: str, proxies: Iterable[Network]) -> bool:
    """Whether ``addr`` is one of ``proxies``."""
    ip = _address(addr)
    return ip is not None and any(ip in net for net in proxies)


def client_address(peer: str, forwarded_for: str | None,
                   proxies: Iterable[Network]) -> str:
    """The viewer's address: ``peer`` itself, unless ``peer`` is a trusted proxy; then
    the right-most ``X-Forwarded-For`` entry that is not a trusted proxy (entries further
    left were written by the client and prove nothing)."""
    proxies = tuple(proxies)
    ip = _address(peer)
    addr = str(ip) if ip is not None else peer
    if not forwarded_for or not trusted(peer, proxies):
        return addr
    for hop in reversed(forwarded_for.split(",")):
        hop_ip = _address(hop)
        if hop_ip is None:
            break  # garbage: stop believing the header here
        addr = str(hop_ip)
        if not any(hop_ip in net for net in proxies):
            break
    return addr


def client_key(user: str | None, peer: str, forwarded_for: str | None = None,
               proxies: Iterable[Network] = ()) -> str:
    """The key limits are counted under: ``user:NAME`` when signed in, else ``ip:ADDR``.

    The prefixes keep a user called ``1.2.3.4`` apart from that address.
    """
    if user:
        return f"user:{user}"
    return f"ip:{client_address(peer, forwarded_for, proxies)}"


# -- a request's client ---------------------------------------------------------------
async def request_user(handler: RequestHandler) -> str | None:
    """The signed-in user (or API token's name) behind ``handler``'s request, as the
    sign-in guard resolves it (None: nobody let in, or sign-in off)."""
    return await identity.current_user(handler)


_proxies: tuple[Network, ...] = ()


def trust_proxies(raw: str | tuple[str, ...]) -> None:
    """Believe ``X-Forwarded-For`` from these proxies (``PHOTON_TRUSTED_PROXIES``)."""
    global _proxies
    _proxies = parse_proxies(raw if isinstance(raw, str) else ",".join(raw))


async def client_of(handler: RequestHandler) -> str:
    """The client ``handler``'s request counts against (:func:`app.access.clients.client_key`)."""
    request = handler.request
    return client_key(await request_user(handler), peer_address(handler),
                      request.headers.get("X-Forwarded-For"), _proxies)


def peer_address(handler: RequestHandler) -> str:
    """The address the connection really comes from: with ``--use-xheaders`` Tornado's
    ``remote_ip`` is whatever the client wrote in a header; the original is kept."""
    request = handler.request
    context = getattr(request.connection, "context", None)
    return getattr(context, "_orig_remote_ip", None) or request.remote_ip or ""
