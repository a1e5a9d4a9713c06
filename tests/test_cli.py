"""``photon``: options over the environment over ``.env``, handed to the served app; what
it says, in one line of its own, when an option, a value or the port is wrong."""

import os
import socket
import subprocess
import sys

import pytest

from app import __version__, cli
from app.config import load_settings
from app.feeds.registry import feed_names
from tests.support import ROOT


@pytest.fixture
def served(monkeypatch, tmp_path):
    """Run ``cli.main`` in ``tmp_path`` up to ``panel serve``; return what the app would read."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("PHOTON_", "FINNHUB_")):
            monkeypatch.delenv(name)
    seen: dict = {}

    def fake_panel_main() -> None:
        seen["argv"] = list(sys.argv)
        seen["settings"] = load_settings()  # what app/main.py and the hub will read

    import panel.command

    monkeypatch.setattr(panel.command, "main", fake_panel_main)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setattr(cli, "port_problem", lambda *_: None)  # tested below, on a real port

    def run(*argv: str):
        seen.clear()
        with monkeypatch.context() as m:  # what main() puts in the environment, undone after
            m.setattr(os, "environ", os.environ.copy())
            cli.main(list(argv))
        return seen["settings"], seen["argv"]

    return run


def test_dotenv_settings_reach_the_served_app(served, tmp_path):
    (tmp_path / ".env").write_text(
        "PHOTON_PUSH_INTERVAL_MS=777\nPHOTON_SYMBOLS=NVDA\nPHOTON_PORT=5123\n"
        "PHOTON_MAX_SYMBOLS=7\nPHOTON_FEED=mock\nPHOTON_LOG_LEVEL=warning\n")
    settings, argv = served()
    assert (settings.push_interval_ms, settings.symbols, settings.max_symbols) == (
        777, ("NVDA",), 7)
    assert argv[argv.index("--port") + 1] == "5123"
    assert argv[argv.index("--log-level") + 1] == "warning"


def test_environment_beats_dotenv_and_options_beat_both(served, tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("PHOTON_PUSH_INTERVAL_MS=777\nPHOTON_PORT=5123\n")
    monkeypatch.setenv("PHOTON_PUSH_INTERVAL_MS", "888")
    settings, argv = served()
    assert settings.push_interval_ms == 888 and "5123" in argv
    settings, argv = served("--push-interval-ms", "999", "--port", "5321")
    assert settings.push_interval_ms == 999 and argv[argv.index("--port") + 1] == "5321"


def test_unknown_options_go_to_panel_serve(served):
    _, argv = served("--num-procs", "1")
    assert argv[-2:] == ["--num-procs", "1"]


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"photon {__version__}"


@pytest.mark.parametrize(("argv", "env", "expected"), [
    ((), {"PHOTON_MAX_SYMBOLS": "abc"},
     "photon: PHOTON_MAX_SYMBOLS='abc' is not allowed: must be a whole number"),
    (("--push-interval-ms", "0"), {},
     "photon: --push-interval-ms: PHOTON_PUSH_INTERVAL_MS=0 is not allowed: must be 20 or "
     "more (ms)"),
    (("--feed", "mokc"), {},
     "photon: --feed: PHOTON_FEED=mokc is not a feed: choose mock, finnhub, alpaca or "
     "replay:PATH (did you mean mock?)"),
    (("--feed", "nope"), {},
     "photon: --feed: PHOTON_FEED=nope is not a feed: choose mock, finnhub, alpaca or "
     "replay:PATH"),
    ((), {"PHOTON_FEED": "nope"},
     "photon: PHOTON_FEED=nope is not a feed: choose mock, finnhub, alpaca or replay:PATH"),
    (("--nope",), {}, "photon: unrecognized arguments: --nope (see photon --help)"),
    (("--procs", "two"), {},
     "photon: argument --procs: invalid int value: 'two' (see photon --help)"),
    (("--num-procs", "two"), {},  # an option of panel serve's, read before anything starts
     "photon: argument --num-procs: invalid int value: 'two' (see photon --help)"),
    (("other.py",), {}, "photon: unrecognized arguments: other.py (see photon --help)"),
    (("relay", "--nope"), {},
     "photon relay: unrecognized arguments: --nope (see photon relay --help)"),
])
def test_a_bad_value_stops_photon_with_one_line(tmp_path, argv, env, expected):
    """A real ``python -m app``: exit status 2, one line of Photon's own (no usage block,
    no Python list, no traceback), and nothing before it: no address, nothing served."""
    done = _photon(tmp_path, *argv, **env)
    assert done.returncode == 2
    assert done.stderr.strip() == expected
    assert done.stdout == ""


def _photon(cwd, *argv: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PHOTON_", "FINNHUB_"))}
    return subprocess.run([sys.executable, "-m", "app", *argv], cwd=cwd,
                          env={**clean, "PYTHONPATH": str(ROOT), **env},
                          capture_output=True, text=True, timeout=60)


def test_a_busy_port_is_one_line_before_the_address(tmp_path):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        done = _photon(tmp_path, "--port", str(port))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"photon: port {port} is already in use on 127.0.0.1: stop what listens there or "
        "choose another port with --port (PHOTON_PORT)")
    assert done.stdout == ""


def test_a_free_port_passes_the_check():
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert cli.port_problem("127.0.0.1", range(port, port + 1)) is None


def test_help_lists_every_feed(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    shown = " ".join(capsys.readouterr().out.split())  # unwrapped
    assert f"--feed FEED price feed: {', '.join(feed_names()[:-1])} or {feed_names()[-1]}" in shown
    assert "replay:PATH" in shown
