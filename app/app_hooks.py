"""Bokeh server lifecycle hooks: the hub starts with the server, not per session."""

from app import logs, server_fixes
from app.hub import get_hub, reset_hub


def on_server_loaded(server_context) -> None:
    logs.configure()
    server_fixes.install()
    get_hub()


def on_server_unloaded(server_context) -> None:
    reset_hub()
