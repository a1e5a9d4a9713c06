"""``photon``: options over the environment over ``.env``, handed to the served app."""

import os
import subprocess
import sys

import pytest

from app import __version__, cli
from app.config import load_settings
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
     "photon: --push-interval-ms: PHOTON_PUSH_INTERVAL_MS=0 is not allowed"),
    (("--feed", "mokc"), {}, "photon: --feed: PHOTON_FEED=mokc is not allowed"),
])
def test_a_bad_value_stops_photon_with_one_line(tmp_path, argv, env, expected):
    """A real ``python -m app``: exit status 2, one line, no traceback, nothing served."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PHOTON_", "FINNHUB_"))}
    done = subprocess.run([sys.executable, "-m", "app", *argv], cwd=tmp_path,
                          env={**clean, "PYTHONPATH": str(ROOT), **env},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().startswith(expected)
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr and "Bokeh app running" not in done.stdout
