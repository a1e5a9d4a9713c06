"""``photon`` / ``python -m app``: serve the dashboard with good defaults.

It runs ``panel serve`` on this package's directory, so it serves exactly what
``panel serve app`` serves. Each option here stands for a ``PHOTON_*`` variable
and wins over the environment and ``.env`` (see :mod:`app.config`): the options
given are checked with every other setting, then handed to the served app as
environment variables. Unknown options go to ``panel serve``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from app import __version__
from app.config import (
    LOG_LEVELS,
    Settings,
    env_var,
    exit_on_bad_settings,
    load_settings,
    require_feed_settings,
)

APP_DIR = Path(__file__).resolve().parent

#: Options that set a setting: (flag, settings field, help).
SETTING_OPTIONS = (
    ("--feed", "feed", "price feed: mock (no account needed) or finnhub"),
    ("--port", "port", "port to listen on"),
    ("--push-interval-ms", "push_interval_ms", "how often each browser gets its changes"),
    ("--symbols", "symbols", "default tickers of a new session, comma separated"),
    ("--max-symbols", "max_symbols", "most tickers one session may watch"),
    ("--log-level", "log_level", "level of Photon's and the server's log lines: "
     + ", ".join(level.lower() for level in LOG_LEVELS)),
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="photon",
        description="Photon: a live stock ticker board. Serves the dashboard at "
        "http://ADDRESS:PORT/app. Options not listed here are passed to `panel serve`. "
        "Settings come from the options, then the environment, then ./.env.",
    )
    defaults = Settings()
    for flag, name, text in SETTING_OPTIONS:
        default = getattr(defaults, name)
        shown = ",".join(default) if isinstance(default, tuple) else default
        p.add_argument(flag, dest=name, metavar=name.upper(),
                       help=f"{text} [{env_var(name)}; default {shown}]")
    p.add_argument("--address", default="127.0.0.1",
                   help="interface to listen on [default 127.0.0.1]")
    p.add_argument("--show", action="store_true", help="open a browser tab")
    p.add_argument("--version", action="version", version=f"photon {__version__}")
    return p


def option_overrides(args: argparse.Namespace) -> dict[str, str]:
    """The settings given as options, by variable name (options not given: none)."""
    return {env_var(name): str(getattr(args, name))
            for _, name, _ in SETTING_OPTIONS if getattr(args, name) is not None}


#: The option that stands for each variable, to name it in error lines.
OPTION_OF = {env_var(name): flag for flag, name, _ in SETTING_OPTIONS}


def panel_argv(settings: Settings, address: str, show: bool, extra: list[str]) -> list[str]:
    """The ``panel serve`` command line for these settings."""
    port = settings.port
    argv = ["panel", "serve", str(APP_DIR), "--address", address,
            "--port", str(port), "--allow-websocket-origin", f"{address}:{port}",
            "--check-unused-sessions", "1000", "--unused-session-lifetime", "5000",
            "--log-level", settings.log_level.lower(), "--plugins", "app.routes"]
    if address == "127.0.0.1":
        argv += ["--allow-websocket-origin", f"localhost:{port}"]
    if show:
        argv.append("--show")
    return argv + extra


def main(argv: list[str] | None = None) -> None:
    args, extra = build_parser().parse_known_args(argv)
    overrides = option_overrides(args)

    def load() -> Settings:
        settings = load_settings(overrides=overrides)
        require_feed_settings(settings)
        return settings

    settings = exit_on_bad_settings("photon", load, {v: OPTION_OF[v] for v in overrides})
    os.environ.update(overrides)  # the served app reads the same settings, options first
    from panel.command import main as panel_main

    sys.argv = panel_argv(settings, args.address, args.show, extra)
    print(f"Photon: http://{args.address}:{settings.port}/app (feed: {settings.feed})",
          flush=True)
    panel_main()


if __name__ == "__main__":
    main()
