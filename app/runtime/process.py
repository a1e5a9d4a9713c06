"""This server process's identity, shared by the hub, the pages and the relay feed."""

from __future__ import annotations

import os
import uuid


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


#: Identifies this server process: a page that reconnects to a different one reloads,
#: and the relay lists it among the processes declaring subscriptions. A process forked
#: after this import (``panel serve --num-procs``: Photon's plugin and hooks are loaded
#: before Tornado forks the workers) gets a new one, here; read it as
#: ``process.PROCESS_ID`` or :func:`process_id` when it is needed, since a name
#: imported with ``from app.runtime.process import PROCESS_ID`` keeps the parent's.
PROCESS_ID = _new_id()

_forked_by: int | None = None


def process_id() -> str:
    """This process's id (a forked worker's own, not its parent's)."""
    return PROCESS_ID


def parent_pid() -> int:
    """The PID of the process that started this one.

    For a process forked after Photon was imported (Tornado's ``--num-procs`` workers)
    that is the PID of the process that forked it, recorded at the fork, so it stays
    right even if that process has died since (when ``os.getppid()`` names whoever
    adopted the orphan: 1, a container's init or a subreaper). Otherwise the parent now.
    """
    if _forked_by is not None and _forked_by != os.getpid():
        return _forked_by
    return os.getppid()


def _before_fork() -> None:
    global _forked_by
    _forked_by = os.getpid()


def _after_fork_in_child() -> None:
    global PROCESS_ID
    PROCESS_ID = _new_id()


os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
