"""What the page and ``/api/delivery``, ``/api/alerts/log`` will call (a later step wires
them): one object over the store and the outbox that validates input with one-line
errors and answers in JSON-ready dicts. Async: the store runs in the executor.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from concurrent.futures import Executor
from typing import Any

from app.alerts import email, webhook
from app.alerts.outbox import Outbox
from app.alerts.records import Delivery, DeliverySettings, Firing
from app.alerts.store import AlertStore

#: Longest e-mail address taken (RFC 5321's path limit).
MAX_EMAIL = 254


class DeliveryInputError(ValueError):
    """Delivery settings that are not allowed; the message is one line for a 400."""


class AlertService:
    """A user's delivery settings, alert log and test button."""

    def __init__(self, store: AlertStore, outbox: Outbox, *, allow_private: bool = False,
                 executor: Executor | None = None):
        self._store = store
        self._outbox = outbox
        self._allow_private = allow_private
        self._executor = executor

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, functools.partial(fn, *args))

    async def delivery(self, user: str) -> dict[str, Any]:
        """``{"webhook", "email", "webhook_secret"}``: the secret is shown to its user."""
        return _settings_json(await self._run(self._store.delivery_settings, user))

    async def set_delivery(self, user: str, body: Any) -> dict[str, Any]:
        """Validate and save ``{"webhook": URL or null, "email": ADDRESS or null}``
        (a missing key keeps its value); :class:`DeliveryInputError` if not allowed."""
        if not isinstance(body, Mapping):
            raise DeliveryInputError('send a JSON object: {"webhook": ..., "email": ...}')
        unknown = sorted(set(body) - {"webhook", "email"})
        if unknown:
            raise DeliveryInputError(f"unknown field {unknown[0]!r}: only webhook and email")
        now = await self._run(self._store.delivery_settings, user)
        hook = _text(body, "webhook", now.webhook)
        mail = _text(body, "email", now.email)
        if hook is not None and (why := await self._run(webhook.check_url, hook,
                                                         self._allow_private)):
            raise DeliveryInputError(why)
        if mail is not None and (len(mail) > MAX_EMAIL or email.address_problem(mail)):
            raise DeliveryInputError("the e-mail must be one address: name@host")
        saved = await self._run(self._store.set_delivery_settings, user, hook, mail)
        return _settings_json(saved)

    async def log(self, user: str, limit: int = 100) -> list[dict[str, Any]]:
        """The user's firings, newest first, each with its deliveries' state."""
        rows = await self._run(self._store.log, user, limit)
        return [firing_json(f, d) for f, d in rows]

    async def send_test(self, user: str) -> dict[str, dict[str, Any]]:
        """The test button: each channel's outcome, at once; ``{}`` when none is set."""
        return {c: _delivery_json(d) for c, d in (await self._outbox.send_test(user)).items()}


def firing_json(firing: Firing, deliveries: Mapping[str, Delivery]) -> dict[str, Any]:
    return {"id": firing.id, "symbol": firing.symbol, "condition": firing.condition,
            "price": firing.price, "trade_time": webhook.iso(firing.trade_time),
            "fired_at": webhook.iso(firing.fired_at), "board": firing.board,
            "test": firing.test,
            "deliveries": {c: _delivery_json(d) for c, d in deliveries.items()}}


def _delivery_json(d: Delivery) -> dict[str, Any]:
    return {"state": str(d.state), "attempts": d.attempts, "reason": d.reason}


def _settings_json(s: DeliverySettings) -> dict[str, Any]:
    return {"webhook": s.webhook, "email": s.email, "webhook_secret": s.webhook_secret}


def _text(body: Mapping, key: str, current: str | None) -> str | None:
    if key not in body:
        return current
    value = body[key]
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise DeliveryInputError(f"{key} must be a string or null")
    return value.strip()
