"""Finnhub REST reference prices (``/quote``) through finnhub-python.

The limiter, cache and key-safe errors are shared with other providers
(:mod:`app.feeds.restkit`); this module holds only Finnhub's call and answer shape.
"""

from __future__ import annotations

import logging
import math

import finnhub
import requests

from app.feeds.restkit import (
    AuthRejected,
    LocalRateLimited,
    ReferenceClient,
    RestError,
    TokenBucket,
    UpstreamRateLimited,
    redact,
)
from app.ticks import Reference

log = logging.getLogger(__name__)

__all__ = ["AuthRejected", "LocalRateLimited", "QuoteClient", "RestError", "TokenBucket",
           "UpstreamRateLimited", "parse_quote", "redact"]


def parse_quote(symbol: str, data: object) -> Reference | None:
    """A :class:`Reference` from a ``/quote`` answer; None for an unknown symbol.

    Finnhub answers an unknown symbol with 200 and all zeros, so "no previous
    close" means "nothing known" rather than an error.
    """
    if not isinstance(data, dict):
        raise RestError(f"quote {symbol}: unexpected answer from Finnhub")

    def num(key: str) -> float | None:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        value = float(value)
        return value if math.isfinite(value) and value > 0 else None

    prev_close = num("pc")
    if prev_close is None:
        return None
    return Reference(symbol, prev_close=prev_close, open=num("o"), high=num("h"),
                     low=num("l"), last=num("c"))


class QuoteClient(ReferenceClient):
    """``/quote`` through finnhub-python, behind the shared limiter and cache."""

    def __init__(self, api_key: str, base_url: str, **kwargs):
        super().__init__(base_url, **kwargs)
        self._key = api_key
        self._client: finnhub.Client | None = None

    def _lookup(self, symbol: str) -> Reference | None:
        return parse_quote(symbol, self._fetch(symbol))

    def _fetch(self, symbol: str) -> object:
        # ``from None`` everywhere: the original exceptions carry the request URL.
        try:
            return self._get_client().quote(symbol)
        except finnhub.FinnhubAPIException as e:
            if e.status_code == 429:
                raise UpstreamRateLimited(
                    "Finnhub REST rate limit reached (HTTP 429)") from None
            answered = f"quote {symbol}: Finnhub answered HTTP {e.status_code}"
            if e.status_code in (401, 403):
                raise AuthRejected(answered) from None
            raise RestError(answered) from None
        except finnhub.FinnhubRequestException:
            raise RestError(f"quote {symbol}: unexpected answer from Finnhub") from None
        except requests.Timeout:
            raise RestError(f"quote {symbol}: timed out after {self.timeout_s:g}s") from None
        except requests.RequestException as e:
            detail = redact(str(e), self._key)[:200]
            raise RestError(f"quote {symbol}: {type(e).__name__}: {detail}") from None

    def _get_client(self) -> finnhub.Client:
        if self._client is None:
            client = finnhub.Client(api_key=self._key)
            client.API_URL = self.base_url
            client.DEFAULT_TIMEOUT = self.timeout_s
            # Send the key as a header rather than ``?token=``, so it never appears in
            # URLs (urllib3's debug log and requests' error messages print URLs).
            session = getattr(client, "_session", None)
            if isinstance(session, requests.Session):
                session.params.pop("token", None)
                session.headers["X-Finnhub-Token"] = self._key
            self._client = client
        return self._client
