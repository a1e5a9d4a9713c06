"""Settings from the environment (and a ``.env`` file), read once per process.

Every variable is documented in README.md. Secrets are held in :class:`Secret`,
whose ``repr``/``str`` never show the value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

DEFAULT_SYMBOLS = ("AAPL", "TSLA", "GOOGL")


class Secret:
    """A string that does not print itself: use ``.reveal()`` where it is needed."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    """What a Photon process is configured with."""

    feed: str = "mock"
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS
    push_interval_ms: int = 250
    max_symbols: int = 50
    history_len: int = 240
    stale_after_s: float = 10.0
    mock_seed: int | None = None
    transport: str = "fast"
    """How ticks reach browsers: "fast" (the fast-lane WebSocket) or "bokeh" (model updates)."""
    finnhub_api_key: Secret = field(default_factory=lambda: Secret(""), repr=True)
    finnhub_ws_url: str = "wss://ws.finnhub.io"
    finnhub_rest_url: str = "https://finnhub.io/api/v1"
    finnhub_max_symbols: int = 50
    """Symbols one Finnhub connection may stream (50 on the free plan; paid plans allow more)."""

    def __post_init__(self) -> None:
        if self.push_interval_ms < 20:
            raise ValueError("PHOTON_PUSH_INTERVAL_MS must be at least 20")
        if self.max_symbols < 1:
            raise ValueError("PHOTON_MAX_SYMBOLS must be at least 1")
        if self.transport not in ("fast", "bokeh"):
            raise ValueError(f"PHOTON_TRANSPORT must be 'fast' or 'bokeh', not {self.transport!r}")
        if self.history_len < 2:
            raise ValueError("PHOTON_HISTORY_LEN must be at least 2")
        if self.finnhub_max_symbols < 1:
            raise ValueError("FINNHUB_MAX_SYMBOLS must be at least 1")


def require_feed_settings(settings: Settings) -> None:
    """Raise ``ValueError`` with one clear line when the chosen feed cannot start."""
    if settings.feed == "finnhub" and not settings.finnhub_api_key:
        raise ValueError(
            "the finnhub feed needs an API key: set FINNHUB_API_KEY (in the environment "
            "or a .env file) or FINNHUB_API_KEY_FILE; see .env.example")


def _int(env: dict[str, str], name: str, default: int | None) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None


def load_settings(environ: dict[str, str] | None = None, env_file: str | Path = ".env") -> Settings:
    """Settings from ``.env`` (if present) overridden by the process environment."""
    env: dict[str, str] = {}
    path = Path(env_file)
    if path.is_file():
        env.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    env.update(os.environ if environ is None else environ)

    key = env.get("FINNHUB_API_KEY", "").strip()
    key_file = env.get("FINNHUB_API_KEY_FILE", "").strip()
    if not key and key_file:
        key = Path(key_file).read_text().strip()

    raw_symbols = env.get("PHOTON_SYMBOLS", "").split(",")
    symbols = tuple(s.strip().upper() for s in raw_symbols if s.strip())
    return Settings(
        feed=env.get("PHOTON_FEED", "mock").strip() or "mock",
        symbols=symbols or DEFAULT_SYMBOLS,
        push_interval_ms=_int(env, "PHOTON_PUSH_INTERVAL_MS", 250),
        max_symbols=_int(env, "PHOTON_MAX_SYMBOLS", 50),
        history_len=_int(env, "PHOTON_HISTORY_LEN", 240),
        stale_after_s=float(env.get("PHOTON_STALE_AFTER_S", "") or 10.0),
        mock_seed=_int(env, "PHOTON_MOCK_SEED", None),
        transport=env.get("PHOTON_TRANSPORT", "fast").strip().lower() or "fast",
        finnhub_api_key=Secret(key),
        finnhub_ws_url=env.get("FINNHUB_WS_URL", "wss://ws.finnhub.io"),
        finnhub_rest_url=env.get("FINNHUB_REST_URL", "https://finnhub.io/api/v1"),
        finnhub_max_symbols=_int(env, "FINNHUB_MAX_SYMBOLS", 50),
    )


_settings: Settings | None = None


def get_settings() -> Settings:
    """The process settings, read from the environment on first use."""
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings
