"""The cookie secret: given (``PHOTON_COOKIE_SECRET(_FILE)``), or made once and kept.

Sign-in cookies are signed with it, so it must outlive a restart (or everyone is
signed out) and never travel on a command line (``ps`` shows those to every user
of the machine). Without a given one, Photon makes a random secret the first time
and keeps it in its data directory, mode 0600, and reads it back from then on.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import tempfile
from pathlib import Path

from app.config import SettingError, Settings, data_dir

log = logging.getLogger(__name__)

FILE_NAME = "cookie_secret"


def kept_secret_path() -> Path:
    return data_dir() / FILE_NAME


def cookie_secret(settings: Settings, path: Path | None = None) -> str:
    """The secret to sign cookies with: the setting, else the kept one (made if need be)."""
    given = settings.cookie_secret.reveal()
    if given:
        return given
    path = path or kept_secret_path()
    try:
        return _read_or_make(path)
    except OSError as exc:
        raise SettingError(f"PHOTON_COOKIE_SECRET is not set and {path} cannot be kept "
                           f"({exc.strerror}): set PHOTON_COOKIE_SECRET_FILE",
                           "PHOTON_COOKIE_SECRET") from None


def _read_or_make(path: Path) -> str:
    """The kept secret; made first if there is none. Several processes starting at once
    (``photon --procs``) agree: the file appears whole (a hard link), or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{FILE_NAME}.")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_urlsafe(48) + "\n")
            os.chmod(tmp, 0o600)
            os.link(tmp, path)
            log.info("made a cookie secret, kept in %s (mode 0600)", path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            os.unlink(tmp)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("cookie secret %s was readable by others (mode %o): now 0600", path, mode)
        os.chmod(path, 0o600)
    value = path.read_text(encoding="ascii").strip()
    if len(value) < 32:
        raise OSError(0, "it holds no secret of 32 characters or more")
    return value
