"""``photon`` / ``python -m app``: serve the dashboard with good defaults.

It runs ``panel serve`` on this package's directory, so it serves exactly what
``panel serve app`` serves. Each option here stands for a ``PHOTON_*`` variable
and wins over the environment and ``.env`` (see :mod:`app.config`): the options
given are checked with every other setting, then handed to the served app as
environment variables. Unknown options go to ``panel serve``.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from pathlib import Path
from typing import NoReturn

from app import __version__
from app.config import (
    LOG_LEVELS,
    SettingError,
    Settings,
    env_var,
    exit_on_bad_settings,
    load_settings,
)
from app.feeds.redis_url import redact_url
from app.feeds.registry import feed_choices, require_feed_settings

APP_DIR = Path(__file__).resolve().parent

#: Options that set a setting: (flag, settings field, help).
SETTING_OPTIONS = (
    ("--feed", "feed", "price feed: {feeds} (mock needs no account)"),
    ("--port", "port", "port to listen on"),
    ("--push-interval-ms", "push_interval_ms", "how often each browser gets its changes"),
    ("--symbols", "symbols", "default tickers of a new session, comma separated"),
    ("--max-symbols", "max_symbols", "most tickers one session may watch"),
    ("--redis-url", "redis_url", "read ticks from a relay through this Redis "
     "(see `photon relay`) instead of opening the upstream feed here"),
    ("--record", "record", "also record the feed's ticks to this file (.jsonl.gz)"),
    ("--speed", "replay_speed", "with --feed replay:PATH: play the recording this many "
     "times faster"),
    ("--start", "replay_start_s", "with --feed replay:PATH: skip this many seconds of it"),
    ("--loop", "replay_loop", "with --feed replay:PATH: start over at its end"),
    ("--log-level", "log_level", "level of Photon's and the server's log lines: "
     + ", ".join(level.lower() for level in LOG_LEVELS)),
)
RELAY_OPTIONS = tuple(o for o in SETTING_OPTIONS
                      if o[1] in ("feed", "redis_url", "record", "log_level"))
RECORD_OPTIONS = tuple(o for o in SETTING_OPTIONS if o[1] in ("feed", "symbols", "log_level"))


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line of Photon's own, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def add_setting_options(p: argparse.ArgumentParser, options=SETTING_OPTIONS) -> None:
    defaults = Settings()
    for flag, name, text in options:
        default = getattr(defaults, name)
        shown = ",".join(default) if isinstance(default, tuple) else default
        if "{feeds}" in text:  # the registry's list, so that the help cannot drift from it
            text = text.format(feeds=feed_choices())
        help_text = f"{text} [{env_var(name)}; default {shown}]"
        if isinstance(default, bool):  # a switch: present means on
            p.add_argument(flag, dest=name, action="store_const", const="1", help=help_text)
        else:
            p.add_argument(flag, dest=name, metavar=name.upper(), help=help_text)


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="photon",
        description="Photon: a live stock ticker board. Serves the dashboard at "
        "http://ADDRESS:PORT/app. Options not listed here are passed to `panel serve`. "
        "Settings come from the options, then the environment, then ./.env. "
        "`photon relay --help`: the relay for several server processes.",
    )
    add_setting_options(p)
    p.add_argument("--address", default="127.0.0.1",
                   help="interface to listen on [default 127.0.0.1]")
    p.add_argument("--procs", type=int, default=1, metavar="N",
                   help="start N server processes on ports PORT..PORT+N-1 that share one "
                   "upstream through the relay (needs --redis-url; starts `photon relay` "
                   "unless one runs) [default 1]")
    p.add_argument("--show", action="store_true", help="open a browser tab")
    p.add_argument("--version", action="version", version=f"photon {__version__}")
    return p


def option_overrides(args: argparse.Namespace, options=SETTING_OPTIONS) -> dict[str, str]:
    """The settings given as options, by variable name (options not given: none)."""
    return {env_var(name): str(getattr(args, name))
            for _, name, _ in options if getattr(args, name, None) is not None}


#: The option that stands for each variable, to name it in error lines.
OPTION_OF = {env_var(name): flag for flag, name, _ in SETTING_OPTIONS}


def panel_argv(settings: Settings, address: str, show: bool, extra: list[str]) -> list[str]:
    """The ``panel serve`` command line for these settings."""
    port = settings.port
    argv = ["panel", "serve", str(APP_DIR), "--address", address,
            "--port", str(port), "--allow-websocket-origin", f"{address}:{port}",
            "--check-unused-sessions", "1000", "--unused-session-lifetime", "5000",
            "--log-level", settings.log_level.lower(), "--plugins", "app.routes"]
    if settings.auth == "oauth":  # the provider's tokens stay out of the page's session token
        argv += ["--exclude-cookies", "access_token", "refresh_token", "id_token"]
    if address == "127.0.0.1":
        argv += ["--allow-websocket-origin", f"localhost:{port}"]
    for origin in settings.embed_origins:  # pages that may embed the board or sparklines
        argv += ["--allow-websocket-origin", origin]
    if show:
        argv.append("--show")
    return argv + extra


def upstream_settings(p: argparse.ArgumentParser, options, argv: list[str],
                      check=None) -> tuple[argparse.Namespace, Settings]:
    """Arguments and settings of a command that talks to the upstream itself (the relay,
    the recorder): the options win over environment and .env; a bad value (or what
    ``check(settings)`` refuses) stops it with one line."""
    add_setting_options(p, options)
    args = p.parse_args(argv)
    overrides = option_overrides(args, options)

    def load() -> Settings:
        settings = load_settings(overrides=overrides)
        if check is not None:
            check(settings)
        require_feed_settings(settings, upstream=True)
        return settings

    return args, exit_on_bad_settings(p.prog, load, {v: OPTION_OF[v] for v in overrides})


def relay_main(argv: list[str]) -> None:
    """``photon relay``: hold the upstream feed once, publish it through Redis."""
    p = OneLineParser(
        prog="photon relay",
        description="Hold the upstream feed (one connection for every server process) and "
        "publish its ticks through Redis; servers read them with --redis-url. A second "
        "relay waits as a standby and takes over when the first stops.")
    def needs_redis(settings: Settings) -> None:
        if not settings.redis_url:
            raise SettingError("PHOTON_REDIS_URL is not set: the relay publishes through "
                               "Redis; give --redis-url redis://HOST:6379/0", "PHOTON_REDIS_URL")

    _, settings = upstream_settings(p, RELAY_OPTIONS, argv, needs_redis)
    from app.feeds.registry import upstream_feed
    from app.history.relayed import relay_feed
    from app.relay.publisher import Relay
    from app.runtime import logs

    logs.configure(settings.log_level)
    # The relay sees every trade: it writes the history (and backfills) for all servers.
    make_feed, history = relay_feed(settings, lambda: upstream_feed(settings))
    relay = Relay(make_feed, settings.redis_url or "")
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: relay.stop())
    print(f"Photon relay: feed {settings.feed} -> {redact_url(settings.redis_url or '')}",
          flush=True)
    try:
        relay.run()
    finally:
        if history is not None:
            history.close()


def record_main(argv: list[str]) -> None:
    """``photon record``: record a feed's ticks and reference prices to a file."""
    p = OneLineParser(
        prog="photon record",
        description="Record any feed's trades (symbol, price, size, trade time, receipt "
        "time) and reference prices to a gzipped JSON-lines file, until Ctrl-C or "
        "--duration; play it back with `photon --feed replay:PATH`.")
    p.add_argument("--out", required=True, help="the recording to write (.jsonl.gz)")
    p.add_argument("--duration", type=float, default=0.0,
                   help="stop after this many seconds [default: until Ctrl-C]")
    args, settings = upstream_settings(p, RECORD_OPTIONS, argv)
    from app.feeds.registry import record
    from app.runtime import logs

    logs.configure(settings.log_level)
    print(f"Photon record: {settings.feed} {','.join(settings.symbols)} -> {args.out}",
          flush=True)
    done = record(settings, args.out, args.duration)
    print(f"recorded {done.ticks} trades of {len(settings.symbols)} symbols to {args.out}",
          flush=True)


def panel_options(argv: list[str]) -> argparse.Namespace:
    """``panel serve``'s command line (``argv`` from :func:`panel_argv`) read by ``panel
    serve``'s own options, starting nothing: a wrong option stops Photon here, in one line,
    before it prints its address."""
    from panel.command.serve import Serve

    p = OneLineParser(prog="photon", add_help=False)
    Serve(parser=p)
    parsed = p.parse_args(argv[2:])
    if len(parsed.files) > 1:  # photon serves its own app and nothing else
        p.error(f"unrecognized arguments: {' '.join(parsed.files[1:])}")
    return parsed


def port_problem(address: str, ports: range) -> str | None:
    """None if each of ``ports`` can be listened on at ``address`` (bound as the server
    will bind them, then released), else one line saying which cannot and why."""
    from tornado.netutil import bind_sockets

    for port in ports:
        try:
            sockets = bind_sockets(port, address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (f"port {port} is already in use on {address}: stop what listens "
                        "there or choose another port with --port (PHOTON_PORT)")
            return (f"cannot listen on {address}:{port}: {exc.strerror or exc}; choose "
                    "another --address or --port")
        for sock in sockets:
            sock.close()
    return None


def main(argv: list[str] | None = None) -> None:
    from app.relay import supervisor

    supervisor.follow_supervisor()  # started by `photon --procs`: stop when it does
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["relay"]:
        return relay_main(argv[1:])
    if argv[:1] == ["record"]:
        return record_main(argv[1:])
    if argv[:1] in (["users"], ["tokens"]):  # who may sign in (app/access/admin_cli.py)
        from app.access.admin_cli import main as admin_main

        sys.exit(admin_main(argv))
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    overrides = option_overrides(args)

    def load() -> Settings:
        settings = load_settings(overrides=overrides)
        require_feed_settings(settings)
        return settings

    settings = exit_on_bad_settings("photon", load, {v: OPTION_OF[v] for v in overrides})
    served_argv = panel_argv(settings, args.address, args.show, extra)
    num_procs = panel_options(served_argv).num_procs or 1
    if (args.procs > 1 or num_procs != 1) and not settings.redis_url:
        sys.exit("photon: several processes need --redis-url (PHOTON_REDIS_URL): they share "
                 "one upstream connection through the relay; without it each would open its "
                 "own and show its own market")
    if (busy := port_problem(args.address, range(settings.port,
                                                  settings.port + args.procs))) is not None:
        parser.exit(2, f"photon: {busy}\n")
    os.environ.update(overrides)  # the served app reads the same settings, options first
    if args.procs > 1:
        redis_url = settings.redis_url or ""
        cmds = supervisor.commands(args.procs, settings.port, args.address, redis_url, extra,
                                   with_relay=not supervisor.relay_running(redis_url))
        for i in range(args.procs):
            print(f"Photon: http://{args.address}:{settings.port + i}/app", flush=True)
        sys.exit(supervisor.supervise(cmds))
    from panel.command import main as panel_main

    sys.argv = served_argv
    source = (f"the relay through {redact_url(settings.redis_url)}" if settings.redis_url
              else settings.feed)
    print(f"Photon: http://{args.address}:{settings.port}/app (feed: {source})", flush=True)
    panel_main()


if __name__ == "__main__":
    main()
