"""One instance per server process of something started at load and closed at unload.

The fast lane, the Bokeh lane and the status broadcaster each exist once per
process, made on the server's IO loop by ``app_hooks`` and found by sessions and
routes through their module's ``get()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class Closable(Protocol):
    def close(self) -> None: ...


T = TypeVar("T", bound=Closable)


class OnePerProcess(Generic[T]):
    """Holds the process's instance: ``start`` makes it once, ``stop`` closes and drops it."""

    def __init__(self) -> None:
        self._it: T | None = None

    def start(self, make: Callable[[], T]) -> T:
        """The instance, made by ``make()`` if there is none yet (idempotent)."""
        if self._it is None:
            self._it = make()
        return self._it

    def get(self) -> T | None:
        return self._it

    def stop(self) -> None:
        it, self._it = self._it, None
        if it is not None:
            it.close()
