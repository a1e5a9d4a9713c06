"""Turn sign-in on for the server about to be built, from Photon's settings.

Runs in ``app_hooks.py``'s body, which ``panel serve`` executes while it builds the
application and before it builds the server: ``photon`` and ``panel serve app
--plugins app.routes`` both get here. Nothing goes on a command line: the cookie
secret reaches Bokeh and Panel through their environment variables
(``BOKEH_COOKIE_SECRET``, ``PANEL_COOKIE_SECRET``), the sign-in handlers through
Bokeh's ``BOKEH_AUTH_MODULE`` (:mod:`app.access.auth_module`), the OAuth client
through Panel's config in this process.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from collections.abc import MutableMapping, Sequence
from pathlib import Path

from app.access import identity
from app.access.hashfile import HashFileError
from app.access.passwords import Users
from app.access.secrets_store import cookie_secret
from app.access.tokens import Tokens
from app.config import SettingError, Settings
from app.runtime import logs

AUTH_MODULE = Path(__file__).with_name("auth_module.py")


def check_files(settings: Settings) -> None:
    """The users and tokens files can be used as they are (SettingError: one line why)."""
    variable = "PHOTON_USERS_FILE"
    try:
        if settings.auth == "basic" and settings.users_file:
            if not Path(settings.users_file).is_file():
                raise SettingError(f"PHOTON_USERS_FILE={settings.users_file} does not exist: "
                                   "add a user with `photon users add NAME`",
                                   "PHOTON_USERS_FILE")
            if not Users(settings.users_file).checked():
                raise SettingError(f"PHOTON_USERS_FILE={settings.users_file} has no users: "
                                   "add one with `photon users add NAME`", "PHOTON_USERS_FILE")
        variable = "PHOTON_API_TOKENS_FILE"
        if settings.api_tokens_file and Path(settings.api_tokens_file).is_file():
            Tokens(settings.api_tokens_file).checked()
    except (HashFileError, OSError) as exc:
        raise SettingError(str(exc), variable) from None


def prepare(settings: Settings, environ: MutableMapping[str, str] | None = None) -> None:
    """Set up sign-in for the server this process is about to build (nothing with
    ``PHOTON_AUTH=none``). Raises :class:`SettingError` on what cannot work."""
    env = os.environ if environ is None else environ
    identity.set_policy(None)  # read again from these settings
    if settings.auth == "none":
        return
    check_files(settings)
    secret = cookie_secret(settings)
    logs.protect(secret)
    env["BOKEH_COOKIE_SECRET"] = env["PANEL_COOKIE_SECRET"] = secret
    env["BOKEH_AUTH_MODULE"] = str(AUTH_MODULE)
    if settings.auth == "oauth":
        configure_oauth(settings)


def configure_oauth(settings: Settings) -> None:
    """Panel's OAuth client settings, in this process only."""
    import panel as pn

    logs.protect(settings.oauth_secret.reveal())
    pn.config.oauth_key = settings.oauth_key
    pn.config.oauth_secret = settings.oauth_secret.reveal()
    if settings.oauth_redirect_uri:
        pn.config.oauth_redirect_uri = settings.oauth_redirect_uri
    if settings.oauth_extra_params:
        pn.config.oauth_extra_params = json.loads(settings.oauth_extra_params)


def bound_address(argv: Sequence[str]) -> str:
    """The address a server started with ``argv`` listens on: its ``--address``; without
    one, 127.0.0.1 for ``photon`` and every interface ("") for ``panel serve``."""
    for i, arg in enumerate(argv):
        if arg.startswith("--address="):
            return arg.split("=", 1)[1]
        if arg == "--address" and i + 1 < len(argv):
            return argv[i + 1]
    return "" if "serve" in argv else "127.0.0.1"


_warned = False


def warn_if_open(settings: Settings, argv: Sequence[str]) -> None:
    """Print :func:`anonymous_warning` once per process (Bokeh runs app_hooks.py twice)."""
    global _warned
    line = anonymous_warning(settings, bound_address(argv))
    if line and not _warned:
        _warned = True
        print(line, file=sys.stderr, flush=True)


def is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def anonymous_warning(settings: Settings, address: str) -> str | None:
    """The start-up line of a server anyone can use, bound where others reach it."""
    if settings.auth != "none" or settings.allow_anonymous or is_loopback(address):
        return None
    where = address or "every interface"
    return (f"Photon: PHOTON_AUTH=none on {where}: anyone who reaches this port gets in "
            "(set PHOTON_AUTH=basic or oauth; PHOTON_ALLOW_ANONYMOUS=1 silences this line)")
