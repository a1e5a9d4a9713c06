"""Secrets are masked on the handler, so every record passes it (children's included)."""

from __future__ import annotations

import io
import logging

import pytest

from app.runtime import logs

SECRET = "pw-Very-Secret-42"


@pytest.fixture
def photon_handler():
    """Photon's real handler on the ``app`` logger, writing to a buffer."""
    logger = logging.getLogger("app")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    for h in saved[0]:
        logger.removeHandler(h)
    logs.configure("DEBUG")
    (handler,) = logger.handlers
    stream = io.StringIO()
    handler.setStream(stream)
    yield stream
    logger.removeHandler(handler)
    for h in saved[0]:
        logger.addHandler(h)
    logger.setLevel(saved[1])
    logger.propagate = saved[2]


def test_a_child_loggers_records_are_masked(photon_handler):
    logs.protect(SECRET)
    for name in ("app.feeds.finnhub", "app.feeds.redis_feed.deep.child", "app.hub"):
        logging.getLogger(name).warning("connecting with %s now", SECRET)
    try:
        raise ValueError(f"refused {SECRET}")
    except ValueError:
        logging.getLogger("app.relay.x").exception("failed for %s", "reasons")
    text = photon_handler.getvalue()
    assert SECRET not in text
    assert text.count("connecting with *** now") == 3 and "refused ***" in text


def test_the_filter_is_on_the_handler_not_a_logger(photon_handler):
    assert logs.REDACTOR in logging.getLogger("app").handlers[0].filters
    assert logs.REDACTOR not in logging.getLogger("app.feeds").filters


def test_root_handlers_mask_third_party_loggers():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        logs.protect(SECRET)  # installs on the root's handlers as they are now
        logging.getLogger("websocket").error("url wss://x?token=%s", SECRET)
    finally:
        root.removeHandler(handler)
    assert SECRET not in stream.getvalue() and "token=***" in stream.getvalue()


@pytest.mark.parametrize(("text", "shown"), [
    ("redis://:hunter22@redis:6379/0", "redis://:***@redis:6379/0"),
    ("rediss://user:hunter22@h/0", "rediss://user:***@h/0"),
    ("redis://h:6379/0?password=hunter22&db=1", "redis://h:6379/0?password=***&db=1"),
    ("wss://ws.finnhub.io?token=abc123", "wss://ws.finnhub.io?token=***"),
    ("redis://h:6379/0", "redis://h:6379/0"),
])
def test_credential_shaped_text_is_masked_without_registration(text, shown):
    assert logs.redact(text) == shown


def test_the_rate_limited_log_says_how_many_it_held_back(caplog):
    now = [0.0]
    logger = logging.getLogger("photon_test.ratelimit")
    limited = logs.RateLimitedLog(logger, 10.0, clock=lambda: now[0])
    caplog.set_level(logging.WARNING, logger="photon_test.ratelimit")
    assert limited.warning("k", "bad %s", 1)
    assert not limited.warning("k", "bad %s", 2)
    assert not limited.warning("k", "bad %s", 3)
    assert limited.warning("other", "bad %s", 4)
    now[0] = 11.0
    assert limited.warning("k", "bad %s", 5)
    assert [r.getMessage() for r in caplog.records] == [
        "bad 1", "bad 4", "bad 5 (and 2 more since the last line)"]


def test_no_handler_configured_the_last_resort_masks_too(capsys):
    """With no handler anywhere (a library logger, logging unconfigured), Python writes
    warnings through ``logging.lastResort``: it carries the filter as well."""
    logs.protect(SECRET)
    logger = logging.getLogger("photon_test.lastresort")
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers.clear()
    try:
        logger.warning("key %s", SECRET)
    finally:
        root.handlers[:] = saved
    err = capsys.readouterr().err
    assert "key ***" in err and SECRET not in err
