"""Settings: one source, one order, for every way Photon starts.

``photon``, ``python -m app`` and ``panel serve app`` all read their settings
through :func:`load_settings`, highest first: a command-line option, the process
environment, a ``.env`` file in the working directory, the default. A value that
is not allowed raises :class:`SettingError`, one line naming the variable, the
value and what is allowed, before anything starts. Every variable is documented
in README.md and ``.env.example``. Secrets are held in :class:`Secret`, whose
``repr``/``str`` never show the value.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

DEFAULT_SYMBOLS = ("AAPL", "TSLA", "GOOGL")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


#: The cadence's defaults (ms): the hub reads them from here and nowhere else does.
PUSH_INTERVAL_MS = 100
MAX_PUSH_INTERVAL_MS = 1000


class SettingError(ValueError):
    """A setting whose value is not allowed; the message is one line that says so."""

    def __init__(self, message: str, variable: str = ""):
        super().__init__(message)
        self.variable = variable


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


# -- what each variable accepts ----------------------------------------------
# A check returns None when the value is allowed, else what is allowed instead.
Check = Callable[[Any], "str | None"]


def _at_least(low: float, unit: str = "") -> Check:
    return lambda v: None if v >= low else f"must be {low:g} or more{unit}"


def _between(low: int, high: int) -> Check:
    return lambda v: None if low <= v <= high else f"must be from {low} to {high}"


def _one_of(*choices: str) -> Check:
    return lambda v: None if v in choices else "must be one of " + ", ".join(choices)


def _url(*schemes: str) -> Check:
    prefixes = tuple(f"{s}://" for s in schemes)
    return lambda v: None if v.startswith(prefixes) else (
        "must be a URL starting with " + " or ".join(prefixes))


def _above_zero(what: str) -> Check:
    return lambda v: None if math.isfinite(v) and v > 0 else f"must be {what} above 0"


_positive_seconds = _above_zero("a number of seconds")


def _feed_name(name: str) -> str | None:
    return None if name else "must name a feed, e.g. mock, finnhub, alpaca or replay:PATH"


def _origins(raw: str) -> tuple[str, ...]:
    """``host[:port]`` items, as Bokeh's ``--allow-websocket-origin`` takes them."""
    return tuple(o.strip().removeprefix("http://").removeprefix("https://").rstrip("/")
                 for o in raw.split(",") if o.strip())


def _no_wildcard(origins: tuple[str, ...]) -> str | None:
    if any("*" in o or "/" in o or not o for o in origins):
        return "must be host or host:port items, comma separated; never *"
    return None


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _proxies(raw: str) -> tuple[str, ...]:
    """``PHOTON_TRUSTED_PROXIES``: addresses or CIDR networks, comma separated."""
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def _networks(items: tuple[str, ...]) -> str | None:
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            return "must be IP addresses or networks (CIDR), comma separated"
    return None


#: Sessions one process holds by default: the acceptance bench's 2,000 sessions held
#: every target but the cadence, which stretched to 656 ms (docs/security.md, "Limits per client").
MAX_SESSIONS = 2000


def _symbols(raw: str) -> tuple[str, ...]:
    return tuple(s.strip().upper() for s in raw.split(",") if s.strip()) or DEFAULT_SYMBOLS


def default_history_path(environ: Mapping[str, str] | None = None) -> str:
    """``$XDG_DATA_HOME/photon/history.sqlite3`` (``~/.local/share`` without it)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
    return str(Path(base) / "photon" / "history.sqlite3")


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Photon's data directory: ``$XDG_DATA_HOME/photon`` (``~/.local/share`` without it)."""
    return Path(default_history_path(environ)).parent


#: Panel's OAuth providers Photon offers (``PHOTON_OAUTH_PROVIDER``).
OAUTH_PROVIDERS = ("github", "google", "azure", "azurev2", "okta", "generic", "gitlab",
                   "auth0", "bitbucket")


def _allowed_users(raw: str) -> tuple[str, ...]:
    """Names, e-mails and ``@domain`` items, comma separated, compared case-blind."""
    return tuple(item.strip().lower() for item in raw.split(",") if item.strip())


def _json_object(raw: str) -> str | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return "must be a JSON object, e.g. {\"AUTHORIZE_URL\": \"https://...\"}"
    return None if isinstance(value, dict) else "must be a JSON object"


def _path(raw: str) -> str:
    return str(Path(raw.strip()).expanduser())


def _path_or_off(raw: str) -> str:
    raw = raw.strip()
    return "off" if raw.lower() == "off" else str(Path(raw).expanduser())


_KIND = {int: "a whole number", float: "a number", _flag: "1/0, true/false, yes/no or on/off"}


@dataclass(frozen=True)
class Var:
    """One environment variable: how its text becomes a value and what is allowed."""

    env: str
    parse: Callable[[str], Any] = str
    check: Check | None = None


def var(default: Any, env: str, parse: Callable[[str], Any] = str,
        check: Check | None = None) -> Any:
    """A settings field read from ``env``."""
    return field(default=default, metadata={"var": Var(env, parse, check)})


@dataclass(frozen=True)
class Settings:
    """What a Photon process is configured with (each field names its variable)."""

    feed: str = var("mock", "PHOTON_FEED", str.strip, _feed_name)
    """Which upstream: a name the feeds' registry knows (it checks, in
    :func:`app.feeds.registry.require_feed_settings`), or ``replay:PATH``."""
    symbols: tuple[str, ...] = var(DEFAULT_SYMBOLS, "PHOTON_SYMBOLS", _symbols)
    push_interval_ms: int = var(PUSH_INTERVAL_MS, "PHOTON_PUSH_INTERVAL_MS", int,
                                _at_least(20, " (ms)"))
    """The fastest cadence: each cycle's changes go out this often while delivery keeps up."""
    max_push_interval_ms: int = var(MAX_PUSH_INTERVAL_MS, "PHOTON_MAX_PUSH_INTERVAL_MS", int,
                                    _at_least(20, " (ms)"))
    """The slowest cadence a busy process stretches to."""
    max_symbols: int = var(50, "PHOTON_MAX_SYMBOLS", int, _at_least(1))
    history_len: int = var(240, "PHOTON_HISTORY_LEN", int, _at_least(2))
    stale_after_s: float = var(10.0, "PHOTON_STALE_AFTER_S", float, _positive_seconds)
    mock_seed: int | None = var(None, "PHOTON_MOCK_SEED", int)
    market_hours: str = var("market", "PHOTON_MARKET_HOURS", str.lower,
                            _one_of("market", "always", "pre", "post", "closed"))
    """The calendar stocks follow: "market" is the NYSE day (pre-market, regular, after
    hours, closed), named on rows and the status line, and the mock trades by it (thin in
    the extended hours, none when closed); "always" a regular session around the clock;
    "pre", "post", "closed" hold that phase (to see and test how the board says it)."""
    transport: str = var("fast", "PHOTON_TRANSPORT", str.lower, _one_of("fast", "bokeh"))
    """How ticks reach browsers: "fast" (the fast-lane WebSocket) or "bokeh" (model updates)."""
    gc: str = var("freeze", "PHOTON_GC", str.lower, _one_of("freeze", "default"))
    """"freeze": built sessions are kept out of full collections (app/runtime/gcpolicy.py);
    "default": Python's own collector policy."""
    log_level: str = var("INFO", "PHOTON_LOG_LEVEL", str.upper, _one_of(*LOG_LEVELS))
    port: int = var(5006, "PHOTON_PORT", int, _between(1, 65535))
    """Port of ``photon`` (``panel serve`` takes its own ``--port``)."""
    finnhub_api_key: Secret = field(default_factory=lambda: Secret(""))
    finnhub_ws_url: str = var("wss://ws.finnhub.io", "FINNHUB_WS_URL", str, _url("ws", "wss"))
    finnhub_rest_url: str = var("https://finnhub.io/api/v1", "FINNHUB_REST_URL", str,
                                _url("http", "https"))
    finnhub_max_symbols: int = var(50, "FINNHUB_MAX_SYMBOLS", int, _at_least(1))
    """Symbols one Finnhub connection may stream (50 on the free plan; paid plans allow more)."""
    alpaca_key_id: Secret = field(default_factory=lambda: Secret(""))
    alpaca_secret_key: Secret = field(default_factory=lambda: Secret(""))
    alpaca_ws_url: str = var("wss://stream.data.alpaca.markets/v2/iex", "ALPACA_WS_URL", str,
                             _url("ws", "wss"))
    alpaca_rest_url: str = var("https://data.alpaca.markets", "ALPACA_REST_URL", str,
                               _url("http", "https"))
    embed_origins: tuple[str, ...] = var((), "PHOTON_EMBED_ORIGINS", _origins, _no_wildcard)
    """Pages (``host:port``) allowed to embed /sparkline and /app, besides the server's own."""
    cookie_secure: bool = var(False, "PHOTON_COOKIE_SECURE", _flag)
    """Mark every cookie ``Secure`` on plain HTTP too: the server sits behind a TLS proxy
    (over TLS itself, or told by ``X-Forwarded-Proto`` with ``--use-xheaders``, it does so
    anyway)."""
    record: str | None = var(None, "PHOTON_RECORD", str)
    """Record the upstream's ticks and reference prices to this file (``.jsonl.gz``)."""
    replay_speed: float = var(1.0, "PHOTON_REPLAY_SPEED", float, _above_zero("a speed factor"))
    replay_loop: bool = var(False, "PHOTON_REPLAY_LOOP", _flag)
    replay_start_s: float = var(0.0, "PHOTON_REPLAY_START", float, _at_least(0, " (s)"))
    history: str = var(default_history_path(), "PHOTON_HISTORY", _path_or_off)
    """The bar store (one SQLite file) behind /history and the sparklines; "off": none."""
    history_days: int = var(30, "PHOTON_HISTORY_DAYS", int, _at_least(1, " (days)"))
    """Days of one-minute bars kept; older ones are pruned."""
    boards: str = var(str(data_dir() / "boards.sqlite3"), "PHOTON_BOARDS", _path_or_off)
    """Saved boards (one SQLite file, :mod:`app.boards`); "off": none, every board is
    the URL's, as before."""
    redis_url: str | None = var(None, "PHOTON_REDIS_URL", str, _url("redis", "rediss", "unix"))
    """Read ticks from a relay through this Redis (servers), or publish to it (the relay)."""
    # -- sign-in (app/access) --------------------------------------------------
    auth: str = var("none", "PHOTON_AUTH", str.lower, _one_of("none", "basic", "oauth"))
    """Who gets in: "none" (anyone who reaches the port), "basic" (names and passwords
    from PHOTON_USERS_FILE) or "oauth" (a provider, then PHOTON_ALLOWED_USERS)."""
    users_file: str | None = var(None, "PHOTON_USERS_FILE", _path)
    """``name:hash`` lines (bcrypt, as ``htpasswd -nbB`` writes; ``photon users add``)."""
    allowed_users: tuple[str, ...] = var((), "PHOTON_ALLOWED_USERS", _allowed_users)
    """Who may come in once signed in: names, e-mails, ``@domain``; empty: every user
    of the users file (basic). Required with oauth."""
    api_tokens_file: str | None = var(None, "PHOTON_API_TOKENS_FILE", _path)
    """``name:sha256$hex`` lines of tokens for tools (``photon tokens add``)."""
    embed_public: bool = var(False, "PHOTON_EMBED_PUBLIC", _flag)
    """With sign-in on: /sparkline* and /photon/spark need none (still only to
    PHOTON_EMBED_ORIGINS)."""
    allow_anonymous: bool = var(False, "PHOTON_ALLOW_ANONYMOUS", _flag)
    """Quiet the start-up line of PHOTON_AUTH=none on a non-loopback address."""
    oauth_provider: str | None = var(None, "PHOTON_OAUTH_PROVIDER", str.lower,
                                     _one_of(*OAUTH_PROVIDERS))
    oauth_key: str | None = var(None, "PHOTON_OAUTH_KEY", str.strip)
    """The OAuth client id."""
    oauth_redirect_uri: str | None = var(None, "PHOTON_OAUTH_REDIRECT_URI", str.strip,
                                         _url("http", "https"))
    oauth_extra_params: str | None = var(None, "PHOTON_OAUTH_EXTRA_PARAMS", str.strip,
                                         _json_object)
    """A JSON object for Panel's provider, e.g. the generic one's AUTHORIZE_URL,
    TOKEN_URL, USER_URL, or Azure's tenant."""
    # -- alerts (app/alerts) -----------------------------------------------------
    smtp_url: str | None = var(None, "PHOTON_SMTP_URL", str.strip, _url("smtp", "smtps"))
    """The SMTP server alert e-mails go through: ``smtp://[user@]host[:port]`` (STARTTLS
    when offered; ``?starttls=1`` insists) or ``smtps://``; ``?from=`` the sender."""
    webhook_allow_private: bool = var(False, "PHOTON_WEBHOOK_ALLOW_PRIVATE", _flag)
    """Let alert webhooks call private, loopback and link-local addresses (a test rig,
    or an intranet receiver): off, a user cannot make the server call inside the
    operator's network."""
    smtp_password: Secret = field(default_factory=lambda: Secret(""))
    """PHOTON_SMTP_PASSWORD(_FILE): the password of PHOTON_SMTP_URL's user."""
    cookie_secret: Secret = field(default_factory=lambda: Secret(""))
    """PHOTON_COOKIE_SECRET(_FILE); without it one is made in the data directory."""
    oauth_secret: Secret = field(default_factory=lambda: Secret(""))
    """PHOTON_OAUTH_SECRET(_FILE): the OAuth client secret."""
    trusted_proxies: tuple[str, ...] = var((), "PHOTON_TRUSTED_PROXIES", _proxies, _networks)
    """Proxies (addresses, CIDR) whose ``X-Forwarded-For`` names the viewer's address."""
    max_sessions_per_client: int = var(20, "PHOTON_MAX_SESSIONS_PER_CLIENT", int,
                                       _at_least(1))
    """Tabs one client (signed-in user, else address) may hold open at once."""
    max_sessions: int = var(MAX_SESSIONS, "PHOTON_MAX_SESSIONS", int, _at_least(1))
    """Tabs the process holds at once; past it new viewers get "Photon is full"."""
    history_max_bars: int = var(10_000, "PHOTON_HISTORY_MAX_BARS", int, _at_least(1))
    """Most bars one /history reply carries; more is a 400 saying how to narrow it."""
    history_rate: float = var(2.0, "PHOTON_HISTORY_RATE", float,
                              _above_zero("requests a second"))
    """/history requests a second per client, once its burst is spent."""
    history_burst: int = var(10, "PHOTON_HISTORY_BURST", int, _at_least(1))
    """/history requests a client may make at once."""
    ws_max_unsent_bytes: int = var(1_048_576, "PHOTON_WS_MAX_UNSENT_BYTES", int,
                                   _at_least(1024, " (bytes)"))
    """A WebSocket with more than this waiting to reach its browser is closed."""
    ws_ping_timeout_s: float = var(30.0, "PHOTON_WS_PING_TIMEOUT_S", float, _positive_seconds)
    """Sockets are pinged this often; one that leaves a ping unanswered this long is closed."""
    http_header_timeout_s: float = var(10.0, "PHOTON_HTTP_HEADER_TIMEOUT_S", float,
                                       _positive_seconds)
    """An HTTP connection that sends no complete request head within this is closed."""

    def __post_init__(self) -> None:
        for f in fields(self):
            spec: Var | None = f.metadata.get("var")
            value = getattr(self, f.name)
            if spec and spec.check and value is not None and (why := spec.check(value)):
                raise SettingError(f"{spec.env}={_shown(value)} is not allowed: {why}", spec.env)
        if self.max_push_interval_ms < self.push_interval_ms:
            raise SettingError(
                f"PHOTON_MAX_PUSH_INTERVAL_MS={self.max_push_interval_ms} is not allowed: must "
                f"be at least PHOTON_PUSH_INTERVAL_MS={self.push_interval_ms}",
                "PHOTON_MAX_PUSH_INTERVAL_MS")
        if self.feed == "finnhub" and self.max_symbols > self.finnhub_max_symbols:
            raise SettingError(
                f"PHOTON_MAX_SYMBOLS={self.max_symbols} is not allowed with the finnhub feed: "
                f"must be at most FINNHUB_MAX_SYMBOLS={self.finnhub_max_symbols}, the symbols "
                "one Finnhub connection streams (raise FINNHUB_MAX_SYMBOLS on a bigger plan)",
                "PHOTON_MAX_SYMBOLS")
        self._check_sign_in()
        if self.smtp_url and re.match(r"\w+://[^/@]*:[^/@]*@", self.smtp_url):
            raise SettingError("PHOTON_SMTP_URL is not allowed: it holds a password; give "
                               "it in PHOTON_SMTP_PASSWORD or PHOTON_SMTP_PASSWORD_FILE",
                               "PHOTON_SMTP_URL")

    def _check_sign_in(self) -> None:
        """What each PHOTON_AUTH needs besides itself (the files are read by app/access)."""
        secret = self.cookie_secret.reveal()
        if secret and len(secret) < 32:
            raise SettingError("PHOTON_COOKIE_SECRET is not allowed: must be 32 characters "
                               "or more (e.g. python -c 'import secrets; "
                               "print(secrets.token_urlsafe(48))')", "PHOTON_COOKIE_SECRET")
        if self.auth == "basic" and not self.users_file:
            raise SettingError("PHOTON_AUTH=basic needs PHOTON_USERS_FILE: add a user with "
                               "`photon users add NAME`", "PHOTON_USERS_FILE")
        if self.auth != "oauth":
            return
        missing = [name for name, value in (
            ("PHOTON_OAUTH_PROVIDER", self.oauth_provider), ("PHOTON_OAUTH_KEY", self.oauth_key),
            ("PHOTON_OAUTH_SECRET", self.oauth_secret.reveal()),
            ("PHOTON_ALLOWED_USERS", self.allowed_users)) if not value]
        if missing:
            raise SettingError(f"PHOTON_AUTH=oauth needs {', '.join(missing)} (the provider "
                               "says who someone is; PHOTON_ALLOWED_USERS says who gets in)",
                               missing[0])


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return mask_credentials(str(value))  # a URL's password never goes into an error


#: Credentials that travel in text even when nobody registered them: ``token=``
#: and ``password=`` query values, and the password of a ``scheme://user:pw@host`` URL.
_CREDENTIALS = (
    (re.compile(r"((?:token|password|passwd|apikey|api_key)=)[^&\s'\"]+", re.IGNORECASE),
     r"\1***"),
    (re.compile(r"(\w+://[^:/@\s'\"]*:)[^@/\s'\"]+(@)"), r"\1***\2"),
)


def mask_credentials(text: str) -> str:
    """``text`` with credential-shaped parts masked (the log filter,
    :mod:`app.runtime.logs`, also masks every registered secret)."""
    for pattern, replacement in _CREDENTIALS:
        text = pattern.sub(replacement, text)
    return text


def env_var(name: str) -> str:
    """The environment variable behind the settings field ``name``."""
    return Settings.__dataclass_fields__[name].metadata["var"].env


def _parse(spec: Var, raw: str) -> Any:
    try:
        return spec.parse(raw)
    except ValueError:
        kind = _KIND.get(spec.parse, "another value")
        raise SettingError(f"{spec.env}={raw!r} is not allowed: must be {kind}",
                           spec.env) from None


def _api_key(env: Mapping[str, str], name: str) -> Secret:
    key = env.get(name, "").strip()
    key_file = env.get(f"{name}_FILE", "").strip()
    if not key and key_file:
        try:
            key = Path(key_file).read_text().strip()
        except OSError as exc:
            raise SettingError(
                f"{name}_FILE={key_file} is not allowed: cannot read it ({exc.strerror})"
            ) from None
    return Secret(key)


def read_sources(environ: Mapping[str, str] | None = None, env_file: str | Path = ".env",
                 overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every variable's text, the later source winning: ``.env``, environment, options.

    A blank value counts as not set, so ``PHOTON_SYMBOLS=`` in the environment does
    not hide the value in ``.env``.
    """
    path = Path(env_file)
    sources = [dotenv_values(path) if path.is_file() else {},
               os.environ if environ is None else environ, overrides or {}]
    return {k: v for source in sources for k, v in source.items() if v and v.strip()}


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path = ".env",
                  overrides: Mapping[str, str] | None = None) -> Settings:
    """Settings from (highest first) ``overrides`` (command-line options, by variable
    name), the environment, ``env_file``, the defaults.

    Raises :class:`SettingError` on the first value that is not allowed.
    """
    env = read_sources(environ, env_file, overrides)
    values: dict[str, Any] = {}
    for f in fields(Settings):
        spec: Var | None = f.metadata.get("var")
        if spec is None:
            continue
        raw = env.get(spec.env, "").strip()
        if raw:
            values[f.name] = _parse(spec, raw)
    return Settings(finnhub_api_key=_api_key(env, "FINNHUB_API_KEY"),
                    alpaca_key_id=_api_key(env, "ALPACA_API_KEY_ID"),
                    alpaca_secret_key=_api_key(env, "ALPACA_API_SECRET_KEY"),
                    cookie_secret=_api_key(env, "PHOTON_COOKIE_SECRET"),
                    oauth_secret=_api_key(env, "PHOTON_OAUTH_SECRET"),
                    smtp_password=_api_key(env, "PHOTON_SMTP_PASSWORD"), **values)


def exit_on_bad_settings(prog: str, load: Callable[[], Settings],
                         options: Mapping[str, str] | None = None) -> Settings:
    """``load()``, or stop the process with one line (no traceback) if a setting is bad.

    ``options`` maps variables to the command-line option that set them, so the
    line names what the user typed.
    """
    try:
        return load()
    except SettingError as exc:
        given = (options or {}).get(exc.variable)
        print(f"{prog}: {given + ': ' if given else ''}{exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


_settings: Settings | None = None


def get_settings() -> Settings:
    """The process settings, read from the environment and ``.env`` on first use."""
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings
