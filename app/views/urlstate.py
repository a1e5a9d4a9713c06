"""What a board page keeps in its URL, so a reload or a shared link restores it:
``?symbols=AAPL,TSLA&sort=-change&alerts=AAPL>230.5,NVDA~2%&theme=dark``."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

# The rules of each key, shared with saved boards (app/boards/fields.py).
from app.boards.fields import SORT_KEYS, parse_sort

__all__ = ["SORT_KEYS", "parse_sort", "with_query"]


def with_query(search: str, **keys: str | None) -> str:
    """``search`` with each of ``keys`` replaced (left out when None or, but for
    ``symbols``, empty), commas and the alert syntax left readable."""
    params = [(k, v) for k, v in parse_qsl(search.lstrip("?"), keep_blank_values=True)
              if k not in keys]
    for key, value in keys.items():
        if value is not None and (value or key == "symbols"):
            params.append((key, value))
    return "?" + urlencode(params, safe=",:~")
