"""``photon`` / ``python -m app``: serve the dashboard with good defaults.

It runs ``panel serve`` on this package's directory, so it serves exactly what
``panel serve app`` serves; options here become the ``PHOTON_*`` environment
variables that :mod:`app.config` reads. Unknown options go to ``panel serve``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from app.config import DEFAULT_SYMBOLS
from app.feeds.registry import feed_class

APP_DIR = Path(__file__).resolve().parent


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    p = argparse.ArgumentParser(
        prog="photon",
        description="Photon: a live stock ticker board. Serves the dashboard at "
        "http://ADDRESS:PORT/app. Options not listed here are passed to `panel serve`.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--feed", default=env("PHOTON_FEED", "mock"),
                   help="price feed: mock (no account needed) or finnhub [PHOTON_FEED]")
    p.add_argument("--address", default="127.0.0.1", help="interface to listen on")
    p.add_argument("--port", type=int, default=int(env("PHOTON_PORT", "5006")),
                   help="port to listen on [PHOTON_PORT]")
    p.add_argument("--push-interval-ms", type=int,
                   default=int(env("PHOTON_PUSH_INTERVAL_MS", "250")),
                   help="how often each browser gets its changes [PHOTON_PUSH_INTERVAL_MS]")
    p.add_argument("--symbols", default=env("PHOTON_SYMBOLS", ",".join(DEFAULT_SYMBOLS)),
                   help="default tickers of a new session, comma separated [PHOTON_SYMBOLS]")
    p.add_argument("--max-symbols", type=int, default=int(env("PHOTON_MAX_SYMBOLS", "50")),
                   help="most tickers one session may watch [PHOTON_MAX_SYMBOLS]")
    p.add_argument("--show", action="store_true", help="open a browser tab")
    return p


def panel_argv(args: argparse.Namespace, extra: list[str]) -> list[str]:
    """The ``panel serve`` command line for these options."""
    origin = f"{args.address}:{args.port}"
    argv = ["panel", "serve", str(APP_DIR), "--address", args.address,
            "--port", str(args.port), "--allow-websocket-origin", origin,
            "--check-unused-sessions", "1000", "--unused-session-lifetime", "5000",
            "--plugins", "app.routes"]
    if args.address == "127.0.0.1":
        argv += ["--allow-websocket-origin", f"localhost:{args.port}"]
    if args.show:
        argv.append("--show")
    return argv + extra


def main(argv: list[str] | None = None) -> None:
    args, extra = build_parser().parse_known_args(argv)
    try:
        feed_class(args.feed)
    except ValueError as exc:
        sys.exit(f"photon: {exc}")
    os.environ.update({
        "PHOTON_FEED": args.feed,
        "PHOTON_PUSH_INTERVAL_MS": str(args.push_interval_ms),
        "PHOTON_SYMBOLS": args.symbols,
        "PHOTON_MAX_SYMBOLS": str(args.max_symbols),
    })
    from app.config import load_settings, require_feed_settings

    try:  # fail fast, with one clear line, on a bad setting
        require_feed_settings(load_settings())
    except (ValueError, OSError) as exc:
        sys.exit(f"photon: {exc}")
    from panel.command import main as panel_main

    sys.argv = panel_argv(args, extra)
    print(f"Photon: http://{args.address}:{args.port}/app (feed: {args.feed})", flush=True)
    panel_main()


if __name__ == "__main__":
    main()
