"""Files of ``name:hash`` lines (users, API tokens): read once per change, written whole.

Both files hold hashes only, never a password or a token. Reading is cached on the
file's (mtime, size), so a guard can ask on every request; writing replaces the
name's line (or adds one) and swaps the file in at once, readable by its owner only.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from pathlib import Path

#: A name in either file: no ``:`` (the separator), no blanks, at most 100 characters.
NAME_RE = re.compile(r"^[^\s:]{1,100}$")


class HashFileError(ValueError):
    """A file that cannot be used as it is; the message names the file and line, never a hash."""


def parse_lines(text: str, where: str) -> dict[str, str]:
    """``{name: hash}`` of ``text``; blank lines and ``#`` comments are skipped."""
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, hashed = line.partition(":")
        if not sep or not NAME_RE.match(name) or not hashed:
            raise HashFileError(f"{where} line {number} is not name:hash")
        entries[name] = hashed
    return entries


class HashFile:
    """One ``name:hash`` file, re-read when it changes on disk."""

    def __init__(self, path: str | os.PathLike, what: str):
        self.path = Path(path)
        self.what = what
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._entries: dict[str, str] = {}

    def entries(self) -> dict[str, str]:
        """The file's ``{name: hash}`` ({} if it does not exist)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return {}
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._entries = parse_lines(self.path.read_text(encoding="utf-8"),
                                            f"{self.what} {self.path}")
                self._stamp = stamp
            return self._entries

    def put(self, name: str, hashed: str) -> bool:
        """Write ``name:hashed``, replacing the name's line; True if it replaced one."""
        if not NAME_RE.match(name):
            raise HashFileError(f"{name!r} is not a name: no ':' or blanks, 1-100 characters")
        lines = (self.path.read_text(encoding="utf-8").splitlines()
                 if self.path.exists() else [])
        kept = [ln for ln in lines if ln.strip().partition(":")[0] != name]
        replaced = len(kept) != len(lines)
        write_private(self.path, "\n".join([*kept, f"{name}:{hashed}"]) + "\n")
        return replaced


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step, mode 0600 (its folder made if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
