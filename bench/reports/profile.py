"""Summaries of ``py-spy record --format raw --threads`` output (collapsed stacks).

Each line is ``thread;frame;frame;... count`` (outermost first). We report, per thread,
the share of samples, and over all threads the functions with the most inclusive
samples (in the stack at all) and the most self samples (innermost frame).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

_LOC = re.compile(r"^(?P<fn>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _short(frame: str) -> str:
    """``func (path/to/site-packages/pkg/mod.py:12)`` -> ``pkg/mod.py:func``."""
    m = _LOC.match(frame.strip())
    if not m:
        return frame.strip()
    path = m.group("file")
    for marker in ("site-packages/", "lib/python3", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    parts = path.split("/")
    return f"{'/'.join(parts[-2:])}:{m.group('fn')}"


def summarise_collapsed(path: Path | str, top: int = 15) -> dict:
    path = Path(path)
    if not path.exists():
        return {"error": f"no profile at {path}"}
    threads: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    self_: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        thread = frames[0] if frames[0].startswith(("thread", "process")) else "?"
        body = [_short(f) for f in frames if not f.startswith(("thread", "process"))]
        total += n
        threads[thread] += n
        for f in set(body):
            inclusive[f] += n
        if body:
            self_[body[-1]] += n
    return {"samples": total, "file": str(path),
            "threads": threads.most_common(6),
            "inclusive": inclusive.most_common(top), "self": self_.most_common(top)}


def print_profile(label: str, prof: dict, log=print) -> None:
    if prof.get("error") or not prof.get("samples"):
        log(f"\nProfile {label}: {prof.get('error', 'no samples')}")
        return
    total = prof["samples"]
    log(f"\nProfile of the server during {label} ({total} non-idle samples, {prof['file']})")
    log("  by thread: " + ", ".join(f"{t} {n / total:.0%}" for t, n in prof["threads"]))
    log("  most inclusive time:")
    for f, n in prof["inclusive"]:
        log(f"    {n / total:6.1%}  {f}")
    log("  most self time:")
    for f, n in prof["self"]:
        log(f"    {n / total:6.1%}  {f}")
