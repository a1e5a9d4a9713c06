"""Users and their password hashes (``PHOTON_USERS_FILE``), checked with bcrypt.

The file is what ``htpasswd -nbB name password`` prints, one user a line
(``alice:$2y$05$...``); ``photon users add NAME`` writes the same with bcrypt's
``$2b$``. argon2 hashes (``$argon2id$...``) are accepted when argon2-cffi is
installed. Anything else, a plain password above all, is refused when the file is read.
"""

from __future__ import annotations

from functools import cache

import bcrypt

from app.access.hashfile import HashFile, HashFileError

BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
ARGON2_PREFIX = "$argon2"
MIN_PASSWORD = 8


@cache
def _dummy() -> str:
    """Checked against when the name is unknown, so that a wrong name costs as long as
    a wrong password (the time does not say which names exist)."""
    return bcrypt.hashpw(b"photon-no-such-user", bcrypt.gensalt(rounds=12)).decode()


def is_hash(value: str) -> bool:
    return value.startswith(BCRYPT_PREFIXES) or value.startswith(ARGON2_PREFIX)


def hash_password(password: str) -> str:
    """A bcrypt hash of ``password`` (cost 12)."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=12)).decode("ascii")


def check_password(password: str, hashed: str) -> bool:
    """Does ``password`` match ``hashed`` (bcrypt, or argon2 if installed)?"""
    if hashed.startswith(ARGON2_PREFIX):
        try:
            from argon2 import PasswordHasher
            from argon2.exceptions import Argon2Error
        except ImportError:
            return False
        try:
            return PasswordHasher().verify(hashed, password)
        except Argon2Error:
            return False
    if not hashed.startswith(BCRYPT_PREFIXES):
        return False
    # htpasswd writes $2y$, the same algorithm as $2b$ under another name.
    stored = ("$2b$" + hashed[4:]) if hashed.startswith("$2y$") else hashed
    try:
        return bcrypt.checkpw(password.encode("utf-8"), stored.encode("ascii"))
    except ValueError:
        return False


class Users:
    """The users file: who exists, and whether a password is theirs."""

    def __init__(self, path: str):
        self.file = HashFile(path, "PHOTON_USERS_FILE")

    def names(self) -> frozenset[str]:
        return frozenset(self.checked())

    def checked(self) -> dict[str, str]:
        """``{name: hash}``; :class:`HashFileError` names the first line that is no hash."""
        entries = self.file.entries()
        for number, (name, hashed) in enumerate(entries.items(), 1):
            if not is_hash(hashed):
                raise HashFileError(
                    f"PHOTON_USERS_FILE {self.file.path}: the entry of user {name!r} (entry "
                    f"{number}) is not a bcrypt or argon2 hash; never put a password there: "
                    "use `photon users add NAME` or `htpasswd -nbB NAME`")
        return entries

    def verify(self, name: str, password: str) -> bool:
        """True if ``name`` exists and ``password`` is theirs (slow on purpose: run it
        off the event loop)."""
        hashed = self.checked().get(name)
        if hashed is None:
            check_password(password, _dummy())
            return False
        return check_password(password, hashed)

    def add(self, name: str, password: str) -> bool:
        """Write ``name`` with a hash of ``password``; True if it replaced a line."""
        if len(password) < MIN_PASSWORD:
            raise HashFileError(f"a password needs {MIN_PASSWORD} characters or more")
        return self.file.put(name, hash_password(password))
