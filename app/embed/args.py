"""What ``/sparkline?symbol=AAPL&width=100&height=24&theme=dark&points=60`` asks for."""

from __future__ import annotations

from dataclasses import dataclass

from app.views.theme import theme_from_arg


@dataclass(frozen=True, slots=True)
class EmbedArgs:
    symbol: str
    width: int = 100
    """Sparkline width, px."""
    height: int = 24
    """Sparkline height, px."""
    points: int = 60
    """Sparkline points kept (the newest)."""
    theme: str = "auto"


def _int(raw: str | None, default: int, low: int, high: int) -> int:
    try:
        value = int(raw) if raw not in (None, "") else default
    except ValueError:
        value = default
    return min(max(value, low), high)


def embed_args(args: dict[str, str], max_points: int = 240) -> EmbedArgs:
    """The embed's options from its query string: sizes clamped, anything odd defaulted."""
    return EmbedArgs(
        symbol=(args.get("symbol") or "").strip().upper(),
        width=_int(args.get("width"), 100, 20, 600),
        height=_int(args.get("height"), 24, 8, 200),
        points=_int(args.get("points"), 60, 2, max_points),
        theme=theme_from_arg(args.get("theme")),
    )
