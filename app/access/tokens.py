"""API tokens for tools (``PHOTON_API_TOKENS_FILE``): ``Authorization: Bearer <token>``.

A token is 32 random bytes (URL-safe text) shown once by ``photon tokens add NAME``;
the file keeps ``name:sha256$<hex>`` only. A hash that fast is enough for a secret
that long (nobody guesses 2^256), and lets every request be checked in microseconds.
"""

from __future__ import annotations

import hashlib
import secrets

from app.access.hashfile import HashFile, HashFileError

PREFIX = "sha256$"


def token_hash(token: str) -> str:
    return PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


class Tokens:
    """The tokens file: which name a presented token belongs to."""

    def __init__(self, path: str):
        self.file = HashFile(path, "PHOTON_API_TOKENS_FILE")

    def checked(self) -> dict[str, str]:
        entries = self.file.entries()
        for name, hashed in entries.items():
            if not hashed.startswith(PREFIX) or len(hashed) != len(PREFIX) + 64:
                raise HashFileError(f"PHOTON_API_TOKENS_FILE {self.file.path}: the entry "
                                    f"{name!r} is not a sha256$ hash; make tokens with "
                                    "`photon tokens add NAME`")
        return entries

    def name_of(self, token: str) -> str | None:
        """The name ``token`` was made for, None if it is not one of ours."""
        if not token or len(token) > 200:
            return None
        wanted = token_hash(token)
        for name, hashed in self.checked().items():
            if secrets.compare_digest(hashed, wanted):
                return name
        return None

    def add(self, name: str) -> str:
        """Make a token for ``name`` (replacing its old one) and return it: the only time
        it is seen."""
        token = secrets.token_urlsafe(32)
        self.file.put(name, token_hash(token))
        return token


__all__ = ["HashFileError", "Tokens", "token_hash"]
