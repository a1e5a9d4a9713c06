"""Redis URLs: passwords kept out of everything shown, and a start-up reachability check.

``redis://:PASSWORD@host``, ``redis://host?password=PASSWORD`` and ``rediss://`` (TLS)
are redis-py's URLs; these helpers mask the password wherever a URL is shown and
register it with the log filter (:func:`app.runtime.logs.protect`).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit


def redact_url(url: str) -> str:
    """``url`` with any password (``:pw@`` or ``?password=``) masked, for log lines,
    error messages and the console."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not even a URL: show nothing of it
        return "<unparsable URL>"
    netloc = parts.netloc
    if password is not None:
        host = netloc.rpartition("@")[2]
        netloc = f"{parts.username or ''}:***@{host}"
    query = _PASSWORD_IN_QUERY.sub(r"\1***", parts.query)
    if netloc == parts.netloc and query == parts.query:
        return url
    return (f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
            + (f"#{parts.fragment}" if parts.fragment else ""))


_PASSWORD_IN_QUERY = re.compile(r"((?:^|&)password=)[^&]*", re.IGNORECASE)


def url_secrets(url: str) -> list[str]:
    """The passwords in ``url`` as written and as Redis receives them (percent-decoded),
    for :func:`app.runtime.logs.protect`."""
    try:
        parts = urlsplit(url)
        found = [parts.password or ""]
    except ValueError:
        return []
    found += [v for k, v in parse_qsl(parts.query, keep_blank_values=True)
              if k.lower() == "password"]
    found += [m.group(1) for m in re.finditer(r"password=([^&]*)", parts.query, re.I)]
    return sorted({x for s in found if s for x in (s, unquote(s))})


def ping(url: str, timeout_s: float = 3.0) -> str | None:
    """None if Redis at ``url`` answers; else one line saying what went wrong."""
    import redis

    from app.runtime import logs

    for secret in url_secrets(url):
        logs.protect(secret)
    shown = redact_url(url)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s,
                                      socket_timeout=timeout_s)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError) as exc:
        return f"{shown}: cannot reach Redis ({str(exc).strip().rstrip('.') or type(exc).__name__})"
    return None
