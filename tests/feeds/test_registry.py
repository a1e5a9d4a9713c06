"""The feeds' registry (app/feeds/registry.py): names to adapters, and the checks that
need them (a feed that exists, a recording that is there), one line each."""

from __future__ import annotations

import pytest

from app.config import SettingError, load_settings
from app.feeds.mock import MockFeed
from app.feeds.registry import (
    feed_choices,
    feed_class,
    feed_names,
    require_feed_settings,
)


@pytest.mark.parametrize(("feed", "allowed"), [
    ("mokc", "is not a feed: choose mock, finnhub, alpaca or replay:PATH (did you mean mock?)"),
    ("nope", "is not a feed: choose mock, finnhub, alpaca or replay:PATH"),
    ("replay", "is not a feed: choose mock, finnhub, alpaca or replay:PATH"),
    ("replay:/nowhere.jsonl.gz", "is not allowed: no recording at /nowhere.jsonl.gz"),
])
def test_an_unknown_feed_is_one_line_naming_it_and_what_is_allowed(tmp_path, feed, allowed):
    settings = load_settings({"PHOTON_FEED": feed}, env_file=tmp_path / "none")
    with pytest.raises(SettingError) as caught:
        require_feed_settings(settings)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"PHOTON_FEED={feed} {allowed}")
    assert "[" not in message  # words, not a Python list


def test_the_feed_names_are_every_adapter_as_typed():
    assert feed_names() == ["mock", "finnhub", "alpaca", "replay:PATH"]
    assert feed_choices() == "mock, finnhub, alpaca or replay:PATH"


def test_known_names_resolve_to_their_adapters(tmp_path):
    assert feed_class("mock") is MockFeed
    require_feed_settings(load_settings({}, env_file=tmp_path / "none"))  # mock: no error


@pytest.mark.parametrize("feed", ["mock", "finnhub", "alpaca"])
def test_every_feed_follows_the_calendar_the_settings_name(tmp_path, feed):
    """Trades of Finnhub and Alpaca outside the regular session are named as the mock's."""
    from datetime import UTC, datetime

    from app.feeds.registry import feed_for
    from app.market_hours import Phase

    env = {"PHOTON_FEED": feed, "PHOTON_MARKET_HOURS": "market", "FINNHUB_API_KEY": "k",
           "ALPACA_API_KEY_ID": "i", "ALPACA_API_SECRET_KEY": "s"}
    made = feed_for(load_settings(env, env_file=tmp_path / "none"))
    evening = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)  # 17:00 New York, a Monday
    assert made.hours == "market" and made.phase("AAPL", evening) is Phase.POST
    held = feed_for(load_settings({**env, "PHOTON_MARKET_HOURS": "pre"},
                                  env_file=tmp_path / "none"))
    assert held.phase("AAPL", evening) is Phase.PRE
