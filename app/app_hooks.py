"""Bokeh server lifecycle hooks: the hub starts with the server, not per session."""

import logging
import os
import sys

import panel as pn
from bokeh.settings import settings as bokeh_settings
from tornado import process

from app.access import clients, headers, session_gate
from app.access import serving as access
from app.config import Settings, exit_on_bad_settings, get_settings
from app.embed import pages as embed_pages
from app.embed import policy as embed_policy
from app.feeds.registry import require_feed_settings
from app.history import handler as history_route
from app.history import service as history
from app.hub.hub import get_hub, reset_hub
from app.lanes import bokehlane, broadcast, fastlane
from app.relay import supervisor
from app.runtime import connections, gcpolicy, gcwatch, logs, server_fixes
from app.views.status import status_values

# This module's body runs when `panel serve` builds the application, before it builds
# the Tornado server: the only moment to turn on gzip for every response.
server_fixes.install_compression()
# ... and the one moment to give it pings, ping and header timeouts (silent clients).
connections.install()
# ... and security headers on every response (they read a page before it is gzipped).
headers.install()
# ... and to turn sign-in on (PHOTON_AUTH): Bokeh reads its auth module and cookie
# secret from the environment after this, when it builds the server.


def _sign_in_prepared() -> Settings:
    settings = get_settings()
    access.prepare(settings)  # e.g. PHOTON_USERS_FILE missing: one line, and stop
    return settings


# sys.argv is the app's own here (Bokeh swaps it): the command line is sys.orig_argv.
access.warn_if_open(exit_on_bad_settings("photon", _sign_in_prepared), sys.orig_argv)


def on_server_loaded(server_context) -> None:
    # `panel serve app` with a bad setting stops here, with one line, before serving.
    settings = exit_on_bad_settings("photon", _checked_settings)
    logs.configure(settings.log_level)
    headers.configure(cookie_secure=settings.cookie_secure)
    if process.task_id() is not None:  # a worker of --num-procs: not one left behind
        supervisor.die_with_parent()
        if not settings.redis_url:
            logging.getLogger(__name__).warning(
                "--num-procs without PHOTON_REDIS_URL: each worker opens its own upstream")
    # Once for the process, not in every session's run of main.py (where each call
    # costs a few ms of a session's start).
    pn.extension()
    pn.config.reconnect = True
    if "BOKEH_PERFORM_ERROR_DIAGNOSTICS" not in os.environ:
        # Bokeh's signature check of every on_change callback is about a fifth of
        # building a session (bench.sessionstart); the variable turns it back on.
        bokeh_settings.perform_error_diagnostics.set_value(False)
    gcwatch.install()
    server_fixes.install()
    server_fixes.install_light_pages()  # only the bundles a page uses, versioned URLs
    server_fixes.install_static_packing()  # BokehJS & co. compressed once, not per visit
    # Limits per client (user, else address): tabs, the process's sessions, /history.
    clients.trust_proxies(settings.trusted_proxies)
    session_gate.install(settings.max_sessions_per_client, settings.max_sessions)
    history_route.configure(settings.history_max_bars, settings.history_rate,
                            settings.history_burst)
    hub = get_hub()
    if (kept := history.open_history(settings, hub.feed)) is not None:
        history.install(kept.attach(hub))
    broadcast.install(hub, status_values)
    bokehlane.install(hub)  # PHOTON_TRANSPORT=bokeh, and browsers the fast lane fails
    # The fast lane runs whatever the board's transport: embeds (/sparkline) use it.
    fastlane.install(hub)
    fastlane.TickSocket.embed_origins = frozenset(o.lower() for o in settings.embed_origins)
    embed_policy.install(settings.embed_origins)
    embed_pages.install(settings.embed_origins)
    if settings.gc == "freeze":
        gcpolicy.install(hub)  # keep built sessions out of full collections


def _checked_settings() -> Settings:
    settings = get_settings()
    require_feed_settings(settings)  # e.g. a key for Finnhub, a Redis that answers
    return settings


def on_server_unloaded(server_context) -> None:
    session_gate.uninstall()
    fastlane.uninstall()
    bokehlane.uninstall()
    broadcast.uninstall()
    gcpolicy.uninstall()
    gcwatch.uninstall()
    reset_hub()
    history.uninstall()
