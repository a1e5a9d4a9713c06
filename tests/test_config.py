"""Settings (app.config): one source, one order, one line per bad value."""

import pytest

from app.config import Secret, SettingError, Settings, load_settings
from app.feeds.mock import MockFeed
from app.feeds.registry import feed_class

# variable, a value for .env, a value for the environment, the field, what each reads as
EVERY_VARIABLE = [
    ("PHOTON_FEED", "mock", "finnhub", "feed", "mock", "finnhub"),
    ("PHOTON_SYMBOLS", "nvda", "msft, amd", "symbols", ("NVDA",), ("MSFT", "AMD")),
    ("PHOTON_PUSH_INTERVAL_MS", "777", "500", "push_interval_ms", 777, 500),
    ("PHOTON_MAX_PUSH_INTERVAL_MS", "1500", "2000", "max_push_interval_ms", 1500, 2000),
    ("PHOTON_MAX_SYMBOLS", "7", "9", "max_symbols", 7, 9),
    ("PHOTON_HISTORY_LEN", "30", "60", "history_len", 30, 60),
    ("PHOTON_STALE_AFTER_S", "2.5", "4", "stale_after_s", 2.5, 4.0),
    ("PHOTON_MOCK_SEED", "1", "2", "mock_seed", 1, 2),
    ("PHOTON_MARKET_HOURS", "Closed", "pre", "market_hours", "closed", "pre"),
    ("PHOTON_TRANSPORT", "bokeh", "fast", "transport", "bokeh", "fast"),
    ("PHOTON_GC", "Default", "freeze", "gc", "default", "freeze"),
    ("PHOTON_LOG_LEVEL", "debug", "warning", "log_level", "DEBUG", "WARNING"),
    ("PHOTON_PORT", "5100", "5200", "port", 5100, 5200),
    ("FINNHUB_WS_URL", "ws://a:1", "ws://b:2", "finnhub_ws_url", "ws://a:1", "ws://b:2"),
    ("FINNHUB_REST_URL", "http://a:1", "http://b:2", "finnhub_rest_url",
     "http://a:1", "http://b:2"),
    ("FINNHUB_MAX_SYMBOLS", "60", "70", "finnhub_max_symbols", 60, 70),
    ("ALPACA_WS_URL", "ws://a:1", "ws://b:2", "alpaca_ws_url", "ws://a:1", "ws://b:2"),
    ("ALPACA_REST_URL", "http://a:1", "http://b:2", "alpaca_rest_url",
     "http://a:1", "http://b:2"),
    ("ALPACA_API_KEY_ID", "id-from-dotenv", "id-from-env", "alpaca_key_id",
     Secret("id-from-dotenv"), Secret("id-from-env")),
    ("ALPACA_API_SECRET_KEY", "s-from-dotenv", "s-from-env", "alpaca_secret_key",
     Secret("s-from-dotenv"), Secret("s-from-env")),
    ("PHOTON_EMBED_ORIGINS", "a.test:8080", "http://b.test, c.test:81/", "embed_origins",
     ("a.test:8080",), ("b.test", "c.test:81")),
    ("PHOTON_COOKIE_SECURE", "1", "off", "cookie_secure", True, False),
    ("PHOTON_RECORD", "a.jsonl.gz", "b.jsonl.gz", "record", "a.jsonl.gz", "b.jsonl.gz"),
    ("PHOTON_REPLAY_SPEED", "10", "2.5", "replay_speed", 10.0, 2.5),
    ("PHOTON_REPLAY_LOOP", "yes", "0", "replay_loop", True, False),
    ("PHOTON_REPLAY_START", "30", "0", "replay_start_s", 30.0, 0.0),
    ("PHOTON_HISTORY", "/tmp/a.sqlite3", "OFF", "history", "/tmp/a.sqlite3", "off"),
    ("PHOTON_HISTORY_DAYS", "7", "90", "history_days", 7, 90),
    ("PHOTON_BOARDS", "/tmp/b.sqlite3", "Off", "boards", "/tmp/b.sqlite3", "off"),
    ("PHOTON_REDIS_URL", "redis://a:1/0", "redis://b:2/0", "redis_url",
     "redis://a:1/0", "redis://b:2/0"),
    ("PHOTON_TRUSTED_PROXIES", "127.0.0.1", "10.0.0.0/8, ::1", "trusted_proxies",
     ("127.0.0.1",), ("10.0.0.0/8", "::1")),
    ("PHOTON_MAX_SESSIONS_PER_CLIENT", "5", "8", "max_sessions_per_client", 5, 8),
    ("PHOTON_MAX_SESSIONS", "100", "300", "max_sessions", 100, 300),
    ("PHOTON_HISTORY_MAX_BARS", "500", "900", "history_max_bars", 500, 900),
    ("PHOTON_HISTORY_RATE", "0.5", "4", "history_rate", 0.5, 4.0),
    ("PHOTON_HISTORY_BURST", "3", "6", "history_burst", 3, 6),
    ("PHOTON_WS_MAX_UNSENT_BYTES", "4096", "65536", "ws_max_unsent_bytes", 4096, 65536),
    ("PHOTON_WS_PING_TIMEOUT_S", "5", "12.5", "ws_ping_timeout_s", 5.0, 12.5),
    ("PHOTON_HTTP_HEADER_TIMEOUT_S", "2", "20", "http_header_timeout_s", 2.0, 20.0),
    ("FINNHUB_API_KEY", "key-from-dotenv", "key-from-env", "finnhub_api_key",
     Secret("key-from-dotenv"), Secret("key-from-env")),
    # sign-in (each alone: PHOTON_AUTH=basic|oauth need more, tests/access/ has them)
    ("PHOTON_AUTH", "NONE", "none", "auth", "none", "none"),
    ("PHOTON_USERS_FILE", "/tmp/u1", "/tmp/u2", "users_file", "/tmp/u1", "/tmp/u2"),
    ("PHOTON_ALLOWED_USERS", "Ann, @Corp.example", "bo@x.test", "allowed_users",
     ("ann", "@corp.example"), ("bo@x.test",)),
    ("PHOTON_API_TOKENS_FILE", "/tmp/t1", "/tmp/t2", "api_tokens_file", "/tmp/t1", "/tmp/t2"),
    ("PHOTON_EMBED_PUBLIC", "1", "off", "embed_public", True, False),
    ("PHOTON_ALLOW_ANONYMOUS", "yes", "0", "allow_anonymous", True, False),
    ("PHOTON_OAUTH_PROVIDER", "GitHub", "generic", "oauth_provider", "github", "generic"),
    ("PHOTON_OAUTH_KEY", "id-a", "id-b", "oauth_key", "id-a", "id-b"),
    ("PHOTON_OAUTH_REDIRECT_URI", "http://a:1/login", "https://b/login", "oauth_redirect_uri",
     "http://a:1/login", "https://b/login"),
    ("PHOTON_OAUTH_EXTRA_PARAMS", '{"tenant": "a"}', '{"url": "b"}', "oauth_extra_params",
     '{"tenant": "a"}', '{"url": "b"}'),
    ("PHOTON_COOKIE_SECRET", "c" * 32, "d" * 40, "cookie_secret",
     Secret("c" * 32), Secret("d" * 40)),
    ("PHOTON_OAUTH_SECRET", "os-from-dotenv", "os-from-env", "oauth_secret",
     Secret("os-from-dotenv"), Secret("os-from-env")),
    # alerts
    ("PHOTON_SMTP_URL", "smtp://a:25", "smtps://u@b", "smtp_url", "smtp://a:25", "smtps://u@b"),
    ("PHOTON_SMTP_PASSWORD", "p-from-dotenv", "p-from-env", "smtp_password",
     Secret("p-from-dotenv"), Secret("p-from-env")),
    ("PHOTON_WEBHOOK_ALLOW_PRIVATE", "1", "no", "webhook_allow_private", True, False),
]


@pytest.mark.parametrize(("name", "in_file", "in_env", "attr", "from_file", "from_env"),
                         EVERY_VARIABLE, ids=[v[0] for v in EVERY_VARIABLE])
def test_each_variable_from_dotenv_environment_and_options(tmp_path, name, in_file, in_env,
                                                           attr, from_file, from_env):
    env_file = tmp_path / ".env"
    env_file.write_text(f"{name}={in_file}\n")
    nothing = tmp_path / "missing.env"
    assert getattr(load_settings({}, env_file=env_file), attr) == from_file  # .env alone
    assert getattr(load_settings({name: in_env}, env_file=nothing), attr) == from_env  # env
    both = load_settings({name: in_env}, env_file=env_file)
    assert getattr(both, attr) == from_env  # the environment wins over .env
    option = load_settings({name: in_env}, env_file=env_file, overrides={name: in_file})
    assert getattr(option, attr) == from_file  # and a command-line option over both


def test_every_settings_field_is_covered_above():
    covered = {v[3] for v in EVERY_VARIABLE}
    assert covered == set(Settings.__dataclass_fields__)


def test_defaults_without_environment(tmp_path):
    s = load_settings({}, env_file=tmp_path / "missing.env")
    assert (s.feed, s.symbols, s.push_interval_ms, s.max_symbols, s.port, s.log_level) == (
        "mock", ("AAPL", "TSLA", "GOOGL"), 100, 50, 5006, "INFO")
    assert s.max_push_interval_ms == 1000


def test_key_from_file_and_never_printed(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("sk-very-secret\n")
    s = load_settings({"FINNHUB_API_KEY_FILE": str(key_file)}, env_file=tmp_path / "none")
    assert s.finnhub_api_key.reveal() == "sk-very-secret"
    for text in (repr(s), str(s), repr(s.finnhub_api_key), f"{s.finnhub_api_key}"):
        assert "sk-very-secret" not in text
    assert Secret("x") == Secret("x") and not Secret("")


BAD = [
    ({"PHOTON_PUSH_INTERVAL_MS": "fast"}, "PHOTON_PUSH_INTERVAL_MS='fast'", "whole number"),
    ({"PHOTON_PUSH_INTERVAL_MS": "0"}, "PHOTON_PUSH_INTERVAL_MS=0", "20 or more"),
    ({"PHOTON_PUSH_INTERVAL_MS": "-250"}, "PHOTON_PUSH_INTERVAL_MS=-250", "20 or more"),
    ({"PHOTON_PUSH_INTERVAL_MS": "2.5"}, "PHOTON_PUSH_INTERVAL_MS='2.5'", "whole number"),
    ({"PHOTON_PUSH_INTERVAL_MS": "500", "PHOTON_MAX_PUSH_INTERVAL_MS": "200"},
     "PHOTON_MAX_PUSH_INTERVAL_MS=200", "at least PHOTON_PUSH_INTERVAL_MS=500"),
    ({"PHOTON_MAX_SYMBOLS": "abc"}, "PHOTON_MAX_SYMBOLS='abc'", "whole number"),
    ({"PHOTON_MAX_SYMBOLS": "0"}, "PHOTON_MAX_SYMBOLS=0", "1 or more"),
    ({"PHOTON_HISTORY_LEN": "1"}, "PHOTON_HISTORY_LEN=1", "2 or more"),
    ({"PHOTON_STALE_AFTER_S": "soon"}, "PHOTON_STALE_AFTER_S='soon'", "a number"),
    ({"PHOTON_STALE_AFTER_S": "0"}, "PHOTON_STALE_AFTER_S=0", "above 0"),
    ({"PHOTON_STALE_AFTER_S": "nan"}, "PHOTON_STALE_AFTER_S=nan", "above 0"),
    ({"PHOTON_MOCK_SEED": "x"}, "PHOTON_MOCK_SEED='x'", "whole number"),
    ({"PHOTON_TRANSPORT": "carrier-pigeon"}, "PHOTON_TRANSPORT=carrier-pigeon", "fast, bokeh"),
    ({"PHOTON_LOG_LEVEL": "loud"}, "PHOTON_LOG_LEVEL=LOUD", "DEBUG, INFO"),
    ({"PHOTON_PORT": "70000"}, "PHOTON_PORT=70000", "from 1 to 65535"),
    ({"FINNHUB_WS_URL": "https://ws.finnhub.io"}, "FINNHUB_WS_URL=https://", "ws://"),
    ({"FINNHUB_REST_URL": "finnhub.io"}, "FINNHUB_REST_URL=finnhub.io", "http://"),
    ({"FINNHUB_MAX_SYMBOLS": "0"}, "FINNHUB_MAX_SYMBOLS=0", "1 or more"),
    ({"FINNHUB_MAX_SYMBOLS": "lots"}, "FINNHUB_MAX_SYMBOLS='lots'", "whole number"),
    ({"PHOTON_FEED": "finnhub", "PHOTON_MAX_SYMBOLS": "60"},  # a cap over the provider's
     "PHOTON_MAX_SYMBOLS=60", "at most FINNHUB_MAX_SYMBOLS=50"),
    ({"PHOTON_REDIS_URL": "localhost:6379"}, "PHOTON_REDIS_URL=localhost:6379", "redis://"),
    ({"PHOTON_EMBED_ORIGINS": "*"}, "PHOTON_EMBED_ORIGINS=*", "never *"),
    ({"PHOTON_REPLAY_SPEED": "0"}, "PHOTON_REPLAY_SPEED=0", "a speed factor above 0"),
    ({"PHOTON_REPLAY_LOOP": "maybe"}, "PHOTON_REPLAY_LOOP='maybe'", "true/false"),
    ({"PHOTON_REPLAY_START": "-5"}, "PHOTON_REPLAY_START=-5", "0 or more"),
    ({"PHOTON_TRUSTED_PROXIES": "127.0.0.1,nginx"}, "PHOTON_TRUSTED_PROXIES=127.0.0.1,nginx",
     "IP addresses or networks"),
    ({"PHOTON_MAX_SESSIONS_PER_CLIENT": "0"}, "PHOTON_MAX_SESSIONS_PER_CLIENT=0", "1 or more"),
    ({"PHOTON_HISTORY_RATE": "0"}, "PHOTON_HISTORY_RATE=0", "requests a second above 0"),
    ({"PHOTON_WS_MAX_UNSENT_BYTES": "10"}, "PHOTON_WS_MAX_UNSENT_BYTES=10", "1024 or more"),
    ({"PHOTON_HTTP_HEADER_TIMEOUT_S": "-1"}, "PHOTON_HTTP_HEADER_TIMEOUT_S=-1", "seconds above 0"),
    ({"FINNHUB_API_KEY_FILE": "/nonexistent/key"}, "FINNHUB_API_KEY_FILE=/nonexistent/key",
     "cannot read it"),
]


@pytest.mark.parametrize(("env", "named", "allowed"), BAD, ids=[b[1] for b in BAD])
def test_a_bad_value_is_one_line_naming_variable_value_and_what_is_allowed(
        tmp_path, env, named, allowed):
    with pytest.raises(SettingError) as caught:
        load_settings(env, env_file=tmp_path / "none")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(named) and allowed in message
    assert "is not allowed" in message


def test_a_bad_value_in_dotenv_is_named_too(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("PHOTON_MAX_SYMBOLS=abc\n")
    with pytest.raises(SettingError, match="PHOTON_MAX_SYMBOLS='abc'"):
        load_settings({}, env_file=env_file)


def test_a_paid_plan_cap_allows_more_symbols_per_viewer(tmp_path):
    s = load_settings({"PHOTON_FEED": "finnhub", "PHOTON_MAX_SYMBOLS": "60",
                       "FINNHUB_MAX_SYMBOLS": "100"}, env_file=tmp_path / "none")
    assert (s.max_symbols, s.finnhub_max_symbols) == (60, 100)


def test_settings_built_in_code_are_checked_too():
    with pytest.raises(SettingError, match="PHOTON_PUSH_INTERVAL_MS=5 is not allowed"):
        Settings(push_interval_ms=5)


def test_feed_names_resolve_with_a_hint_for_typos():
    assert feed_class("mock") is MockFeed
    with pytest.raises(ValueError, match=r"is not a feed: choose mock, .* \(did you mean mock\?\)"):
        feed_class("mokc")
    assert isinstance(MockFeed.from_settings(Settings(mock_seed=3)), MockFeed)


def test_the_finnhub_symbol_cap_follows_the_plan(tmp_path):
    from app.feeds.finnhub import FinnhubFeed

    s = load_settings({"FINNHUB_API_KEY": "k", "FINNHUB_MAX_SYMBOLS": "200"},
                      env_file=tmp_path / "none")
    assert FinnhubFeed.from_settings(s).max_symbols == 200
    assert load_settings({}, env_file=tmp_path / "none").finnhub_max_symbols == 50


def test_a_blank_environment_variable_does_not_hide_dotenv(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("PHOTON_SYMBOLS=NVDA\n")
    assert load_settings({"PHOTON_SYMBOLS": " "}, env_file=env_file).symbols == ("NVDA",)
