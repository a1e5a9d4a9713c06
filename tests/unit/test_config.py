"""Settings (app.config) and feed resolution (app.feeds.registry)."""

import pytest

from app.config import Secret, Settings, load_settings
from app.feeds.mock import MockFeed
from app.feeds.registry import feed_class


def test_defaults_without_environment(tmp_path):
    s = load_settings({}, env_file=tmp_path / "missing.env")
    assert (s.feed, s.symbols, s.push_interval_ms, s.max_symbols) == (
        "mock", ("AAPL", "TSLA", "GOOGL"), 250, 50)


def test_environment_overrides_dotenv(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("PHOTON_PUSH_INTERVAL_MS=500\nPHOTON_SYMBOLS=msft, nvda\n")
    s = load_settings({"PHOTON_PUSH_INTERVAL_MS": "1000"}, env_file=env_file)
    assert s.push_interval_ms == 1000
    assert s.symbols == ("MSFT", "NVDA")


def test_key_from_file_and_never_printed(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("sk-very-secret\n")
    s = load_settings({"FINNHUB_API_KEY_FILE": str(key_file)}, env_file=tmp_path / "none")
    assert s.finnhub_api_key.reveal() == "sk-very-secret"
    for text in (repr(s), str(s), repr(s.finnhub_api_key), f"{s.finnhub_api_key}"):
        assert "sk-very-secret" not in text
    assert Secret("x") == Secret("x") and not Secret("")


@pytest.mark.parametrize(("name", "value"), [("PHOTON_PUSH_INTERVAL_MS", "fast"),
                                             ("PHOTON_PUSH_INTERVAL_MS", "5"),
                                             ("PHOTON_MAX_SYMBOLS", "0"),
                                             ("FINNHUB_MAX_SYMBOLS", "0"),
                                             ("FINNHUB_MAX_SYMBOLS", "lots")])
def test_bad_values_fail_with_the_variable_named(tmp_path, name, value):
    with pytest.raises(ValueError, match=name):
        load_settings({name: value}, env_file=tmp_path / "none")


def test_feed_names_resolve_with_a_hint_for_typos():
    assert feed_class("mock") is MockFeed
    with pytest.raises(ValueError, match="Did you mean 'mock'"):
        feed_class("mokc")
    assert isinstance(MockFeed.from_settings(Settings(mock_seed=3)), MockFeed)


def test_the_finnhub_symbol_cap_follows_the_plan(tmp_path):
    from app.feeds.finnhub import FinnhubFeed

    s = load_settings({"FINNHUB_API_KEY": "k", "FINNHUB_MAX_SYMBOLS": "200"},
                      env_file=tmp_path / "none")
    assert FinnhubFeed.from_settings(s).max_symbols == 200
    assert load_settings({}, env_file=tmp_path / "none").finnhub_max_symbols == 50
