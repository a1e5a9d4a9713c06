"""What a board page keeps in its URL, so a reload or a shared link restores it:
``?symbols=AAPL,TSLA&sort=-change&alerts=AAPL>230.5,NVDA~2%&theme=dark``."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

#: Columns the board sorts by (``-`` in front: descending).
SORT_KEYS = ("symbol", "last", "change", "volume")


def parse_sort(raw: str | None) -> str:
    """``change``, ``-change``...; anything else (or none) is "" (the picker's order)."""
    value = (raw or "").strip().lower()
    return value if value.lstrip("-") in SORT_KEYS and value.count("-") <= 1 else ""


def with_query(search: str, **keys: str | None) -> str:
    """``search`` with each of ``keys`` replaced (left out when None or, but for
    ``symbols``, empty), commas and the alert syntax left readable."""
    params = [(k, v) for k, v in parse_qsl(search.lstrip("?"), keep_blank_values=True)
              if k not in keys]
    for key, value in keys.items():
        if value is not None and (value or key == "symbols"):
            params.append((key, value))
    return "?" + urlencode(params, safe=",:~")
