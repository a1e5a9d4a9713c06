"""The outbox: hands each firing to every channel its user set, records how each
delivery goes, and sends a test alert on demand.

Runs on the event loop (deliveries are coroutines, asleep between retries); the
store and SMTP block, so they run in the executor. Each delivery's state is in the
store from the first attempt on (pending, then sent or failed with the reason), so
the page's "Alerts" list can show it, and :meth:`Outbox.resume` picks up deliveries
a restart interrupted with the rest of their schedule.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor

from tornado.simple_httpclient import SimpleAsyncHTTPClient

from app.alerts import email, webhook
from app.alerts.delivery import DEFAULT_SCHEDULE, Attempt, with_retries
from app.alerts.records import Delivery, DeliverySettings, Firing, State
from app.alerts.store import AlertStore
from app.config import Settings

log = logging.getLogger(__name__)

WEBHOOK, EMAIL = "webhook", "email"


class Outbox:
    """Delivers firings by webhook and e-mail, as each user set it."""

    def __init__(self, store: AlertStore, *, smtp: email.SmtpServer | None = None,
                 allow_private: bool = False, schedule: Sequence[float] = DEFAULT_SCHEDULE,
                 webhook_timeout_s: float = webhook.REQUEST_TIMEOUT_S,
                 smtp_timeout_s: float = email.TIMEOUT_S,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 executor: Executor | None = None):
        self._store = store
        self._smtp = smtp
        self._schedule = tuple(schedule)
        self._webhook_timeout_s = webhook_timeout_s
        self._smtp_timeout_s = smtp_timeout_s
        self._sleep = sleep
        self._executor = executor
        self._allow_private = allow_private
        self._http: SimpleAsyncHTTPClient | None = None  # made on the loop
        self._tasks: set[asyncio.Task] = set()

    @classmethod
    def from_settings(cls, store: AlertStore, settings: Settings, **kw) -> Outbox:
        return cls(store, smtp=email.SmtpServer.from_settings(settings),
                   allow_private=settings.webhook_allow_private, **kw)

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, functools.partial(fn, *args))

    # -- firings ------------------------------------------------------------------
    def submit(self, firing: Firing) -> asyncio.Task:
        """Deliver ``firing`` in the background (from the engine's caller, on the loop)."""
        task = asyncio.get_running_loop().create_task(self.deliver(firing))
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("alert delivery stopped: %s", task.exception())

    async def deliver(self, firing: Firing) -> dict[str, Delivery]:
        """Deliver to every channel the user set, retrying by the schedule; the final
        state of each (also in the store)."""
        settings = await self._run(self._store.delivery_settings, firing.user)
        channels = self._channels(settings)
        results = await asyncio.gather(*(self._deliver(firing, ch, attempt)
                                         for ch, attempt in channels.items()))
        return dict(zip(channels, results, strict=True))

    async def resume(self) -> list[asyncio.Task]:
        """Go on with the deliveries a restart interrupted (each with the rest of its
        schedule, to the user's current address)."""
        tasks = []
        for firing, delivery in await self._run(self._store.pending):
            settings = await self._run(self._store.delivery_settings, firing.user)
            attempt = self._channels(settings).get(delivery.channel)
            if attempt is None:  # the user removed that channel meanwhile
                await self._record(firing.id, Delivery(delivery.channel, State.FAILED,
                                   delivery.attempts, "the channel was removed"))
                continue
            task = asyncio.get_running_loop().create_task(
                self._deliver(firing, delivery.channel, attempt, done=delivery.attempts))
            self._tasks.add(task)
            task.add_done_callback(self._done)
            tasks.append(task)
        return tasks

    async def _deliver(self, firing: Firing, channel: str,
                       attempt: Callable[[Firing], Awaitable[Attempt]], done: int = 0) -> Delivery:
        await self._record(firing.id, Delivery(channel, State.PENDING, done))
        result = await with_retries(channel, lambda: attempt(firing),
                                    functools.partial(self._record, firing.id),
                                    self._schedule, done=done, sleep=self._sleep)
        if result.state is State.FAILED:
            log.warning("alert %s of %s: %s delivery failed after %d attempts: %s", firing.id,
                        firing.user, channel, result.attempts, result.reason)
        return result

    async def _record(self, firing_id: str, delivery: Delivery) -> None:
        await self._run(self._store.set_delivery, firing_id, delivery)

    # -- channels -------------------------------------------------------------------
    def _channels(self, settings: DeliverySettings
                  ) -> dict[str, Callable[[Firing], Awaitable[Attempt]]]:
        out: dict[str, Callable[[Firing], Awaitable[Attempt]]] = {}
        if settings.webhook:
            out[WEBHOOK] = functools.partial(self._post, settings.webhook,
                                             settings.webhook_secret)
        if settings.email:
            out[EMAIL] = functools.partial(self._mail, settings.email)
        return out

    async def _post(self, url: str, secret: str, firing: Firing) -> Attempt:
        if self._http is None:
            self._http = webhook.client(self._allow_private)
        return await webhook.post(self._http, url, firing, secret, self._webhook_timeout_s)

    async def _mail(self, to: str, firing: Firing) -> Attempt:
        if self._smtp is None:
            return Attempt(False, False, "e-mail is not set up on this server (PHOTON_SMTP_URL)")
        return await self._run(email.send, self._smtp, to, firing, self._smtp_timeout_s)

    # -- the "send a test alert" button ---------------------------------------------
    async def send_test(self, user: str) -> dict[str, Delivery]:
        """One attempt on each channel ``user`` set, now (the page waits for the
        answer, so no retries); logged like a firing, marked as a test. No channel
        set: nothing sent or logged, ``{}``."""
        settings = await self._run(self._store.delivery_settings, user)
        channels = self._channels(settings)
        if not channels:
            return {}
        now = time.time()
        firing = Firing(user, "", "TEST", "test alert", 0.0, now, now, test=True)
        await self._run(self._store.log_test, firing)
        results = await asyncio.gather(*(self._deliver_once(firing, ch, attempt)
                                         for ch, attempt in channels.items()))
        return dict(zip(channels, results, strict=True))

    async def _deliver_once(self, firing: Firing, channel: str,
                            attempt: Callable[[Firing], Awaitable[Attempt]]) -> Delivery:
        result = await attempt(firing)
        delivery = (Delivery(channel, State.SENT, 1) if result.ok
                    else Delivery(channel, State.FAILED, 1, result.reason))
        await self._record(firing.id, delivery)
        return delivery

    async def close(self) -> None:
        """Stop the deliveries under way (their state stays pending: resumed later)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            self._http.close()
