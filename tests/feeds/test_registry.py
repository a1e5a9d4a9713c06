"""The feeds' registry (app/feeds/registry.py): names to adapters, and the checks that
need them (a feed that exists, a recording that is there), one line each."""

from __future__ import annotations

import pytest

from app.config import SettingError, load_settings
from app.feeds.mock import MockFeed
from app.feeds.registry import feed_class, require_feed_settings


@pytest.mark.parametrize(("feed", "allowed"), [
    ("mokc", "Did you mean 'mock'"),
    ("replay:/nowhere.jsonl.gz", "no recording at /nowhere.jsonl.gz"),
])
def test_an_unknown_feed_is_one_line_naming_it_and_what_is_allowed(tmp_path, feed, allowed):
    settings = load_settings({"PHOTON_FEED": feed}, env_file=tmp_path / "none")
    with pytest.raises(SettingError) as caught:
        require_feed_settings(settings)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"PHOTON_FEED={feed} is not allowed") and allowed in message


def test_known_names_resolve_to_their_adapters(tmp_path):
    assert feed_class("mock") is MockFeed
    require_feed_settings(load_settings({}, env_file=tmp_path / "none"))  # mock: no error
