"""``photon users add NAME`` and ``photon tokens add NAME``: the sign-in files' lines.

``users add`` asks for a password (twice at a terminal; one line from standard input
otherwise, for scripts) and writes ``NAME:<bcrypt hash>`` to PHOTON_USERS_FILE,
replacing NAME's line. ``tokens add`` makes a token, writes its hash to
PHOTON_API_TOKENS_FILE and prints the token once, alone on the last line.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TextIO

from app.access.hashfile import HashFileError
from app.access.passwords import Users
from app.access.tokens import Tokens
from app.config import SettingError, Settings, exit_on_bad_settings, load_settings


def read_password(stdin: TextIO, prompt=getpass.getpass) -> str:
    """The new password: asked twice at a terminal, else the first line of ``stdin``."""
    if stdin.isatty():
        first = prompt("Password: ")
        if prompt("Again: ") != first:
            raise HashFileError("the two passwords differ")
        return first
    return stdin.readline().rstrip("\r\n")


def _file(settings: Settings, attr: str, variable: str) -> str:
    path = getattr(settings, attr)
    if not path:
        raise SettingError(f"{variable} is not set: give the file with --file PATH or "
                           f"set {variable}", variable)
    return path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="photon", description="Manage who may sign in.")
    sub = p.add_subparsers(dest="kind", required=True)
    for kind, text in (("users", "users of PHOTON_AUTH=basic (PHOTON_USERS_FILE)"),
                       ("tokens", "API tokens for tools (PHOTON_API_TOKENS_FILE)")):
        kp = sub.add_parser(kind, help=text, description=text)
        ksub = kp.add_subparsers(dest="action", required=True)
        add = ksub.add_parser("add", help=f"add a {kind[:-1]}, or replace its "
                              + ("password" if kind == "users" else "token"))
        add.add_argument("name")
        add.add_argument("--file", help="the file to write [default: the setting]")
    return p


def main(argv: list[str], stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """``photon users|tokens add NAME [--file PATH]``; returns the exit status."""
    stdin, out = stdin or sys.stdin, out or sys.stdout
    args = build_parser().parse_args(argv)
    variable = "PHOTON_USERS_FILE" if args.kind == "users" else "PHOTON_API_TOKENS_FILE"
    given = {variable: args.file} if args.file else {}
    settings = exit_on_bad_settings("photon", lambda: load_settings(overrides=given))
    try:
        if args.kind == "users":
            path = _file(settings, "users_file", "PHOTON_USERS_FILE")
            replaced = Users(path).add(args.name, read_password(stdin))
            print(f"{'replaced' if replaced else 'added'} user {args.name} in {path}",
                  file=out)
        else:
            path = _file(settings, "api_tokens_file", "PHOTON_API_TOKENS_FILE")
            token = Tokens(path).add(args.name)
            print(f"made a token for {args.name} (any earlier one is void), its hash "
                  f"kept in {path}; the token is shown this once, on the next line:",
                  file=out)
            print(token, file=out, flush=True)
    except (HashFileError, SettingError, OSError) as exc:
        print(f"photon {args.kind} {args.action}: {exc}", file=sys.stderr)
        return 2
    return 0
