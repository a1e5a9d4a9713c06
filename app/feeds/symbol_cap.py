"""The symbol cap: a plan streams at most N symbols; the rest wait their turn.

Symbols beyond the cap are refused before the provider refuses them (some close
the connection for it) and wait, oldest first; a symbol dropped makes room for
the longest-waiting one. Pure bookkeeping over the feed's own symbol set, called
under the feed's symbol lock.
"""

from __future__ import annotations

from collections.abc import Iterable


class SymbolCap:
    """The waiting line of symbols over the limit (the limit is each call's: a plan's
    cap can change while the feed runs)."""

    def __init__(self) -> None:
        self._waiting: dict[str, None] = {}  # over the limit, oldest first

    @property
    def waiting(self) -> list[str]:
        return list(self._waiting)

    def admit(self, streamed: set[str], symbols: Iterable[str],
              limit: int) -> tuple[list[str], list[str]]:
        """Add ``symbols`` to ``streamed`` while it has fewer than ``limit``, the rest
        to the waiting line; returns (accepted, refused), each new symbol once."""
        accepted: list[str] = []
        refused: list[str] = []
        room = limit - len(streamed)
        for sym in dict.fromkeys(symbols):
            if sym in streamed or sym in self._waiting:
                continue
            (accepted if len(accepted) < room else refused).append(sym)
        streamed.update(accepted)
        self._waiting.update(dict.fromkeys(refused))
        return accepted, refused

    def withdraw(self, symbols: Iterable[str]) -> None:
        """Nobody wants ``symbols`` any more: they leave the waiting line."""
        for sym in symbols:
            self._waiting.pop(sym, None)

    def promote(self, streamed: set[str], limit: int) -> list[str]:
        """Move the longest-waiting symbols into the room ``streamed`` has; returns them."""
        room = max(limit - len(streamed), 0)
        promoted = list(self._waiting)[:room]
        for sym in promoted:
            del self._waiting[sym]
        streamed.update(promoted)
        return promoted

    @staticmethod
    def reason(limit: int) -> str:
        """Why a waiting symbol is quiet, as its row shows it."""
        return f"not streamed: the plan's {limit}-symbol limit is reached"
