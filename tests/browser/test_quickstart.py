"""README's first command, as a new user runs it: a fresh clone, the system Python.

Debian 12 refuses ``pip install`` into its system Python (PEP 668), so the command
must bring its own virtual environment; and Ctrl-C must stop all it started.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.browser.helpers import open_board, prices
from tests.support import ROOT, free_port, get_json, wait_until

pytestmark = pytest.mark.browser

#: A user's PATH with the system Python first where the machine has one.
SYSTEM_PATH = "/usr/bin:/bin" if Path("/usr/bin/python3").exists() else os.environ["PATH"]


def readme_command(number: int) -> str:
    """The command under ``# N.`` in the README's Quick start block."""
    quick = (ROOT / "README.md").read_text().split("## Quick start", 1)[1]
    block = quick.split("```bash", 1)[1].split("```", 1)[0]
    lines = block.strip().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"# {number}."))
    return lines[at + 1].strip()


def fresh_clone(dest: Path) -> Path:
    """``git clone`` of this repository, plus any uncommitted work (none in CI)."""
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True)
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def user_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PHOTON_", "FINNHUB_", "VIRTUAL_ENV", "PYENV", "PYTHON"))}
    return {**env, "PATH": SYSTEM_PATH, **extra}


def test_the_readme_names_its_two_commands():
    assert readme_command(1) == "bash start.sh"
    assert readme_command(2) == "bash .ci/run"


def test_first_command_serves_live_prices_from_a_fresh_clone_and_ctrl_c_stops_it(
        tmp_path, page):
    clone = fresh_clone(tmp_path / "photon")
    port = free_port()
    log = tmp_path / "start.log"
    with log.open("w") as out:
        proc = subprocess.Popen(["bash", "-c", readme_command(1)], cwd=clone,
                                # the mock follows NYSE hours: at night or at the
                                # weekend nothing would move (tests/conftest.py)
                                env=user_env(PHOTON_PORT=str(port),
                                             PHOTON_MARKET_HOURS="always",
                                             # a new user's data directory, not the
                                             # tester's (saved boards, history)
                                             XDG_DATA_HOME=str(tmp_path / "data")),
                                stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    pgid = os.getpgid(proc.pid)
    try:
        # Installing into a new .venv takes a while. Every wait below is for a state, with
        # a timeout only a hung command reaches: a busy machine makes it slower, not red.
        wait_until(lambda: proc.poll() is None and "Photon: http://" in log.read_text()
                   or proc.poll() is not None, timeout=900, every=1, what="install")
        assert proc.poll() is None, log.read_text()
        venv_python = (clone / ".venv/bin/python").resolve()
        if SYSTEM_PATH.startswith("/usr/bin"):
            assert str(venv_python).startswith("/usr/bin/"), venv_python  # the system's
        wait_until(lambda: get_json(f"http://127.0.0.1:{port}/health")[0] == 200
                   if _listening(port) else False, timeout=300, what="/health")
        open_board(page, f"http://127.0.0.1:{port}/app")
        first = wait_until(lambda: (p := prices(page)) and "—" not in p.values() and p,
                           timeout=180, what="prices on the board")
        assert set(first) == {"AAPL", "TSLA", "GOOGL"}
        wait_until(lambda: prices(page) != first, timeout=180, what="a live price change")
    finally:
        os.killpg(pgid, signal.SIGINT)  # Ctrl-C in the terminal
        try:
            proc.wait(180)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            raise AssertionError(
                f"Ctrl-C did not stop it:\n{log.read_text()[-2000:]}") from None
    assert _group_gone(pgid), "processes of the command outlived Ctrl-C"
    assert not _listening(port)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _group_gone(pgid: int) -> bool:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _script_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "photon"
    (dest / "scripts").mkdir(parents=True)
    for name in ("start.sh", "scripts/venv.sh", "pyproject.toml"):
        shutil.copy2(ROOT / name, dest / name)
    return dest


def test_without_the_venv_module_the_user_is_told_what_to_install(tmp_path):
    """Debian without python3-venv: ``python3 -m venv`` fails half-way, leaving a .venv
    without pip. One line says what to install; nothing half-made is left behind."""
    clone = _script_copy(tmp_path)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    real = shutil.which("python3", path=SYSTEM_PATH)
    (fake_bin / "python3").write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then\n'
        f'  mkdir -p "$3/bin" && ln -sf {real} "$3/bin/python"\n'
        '  echo "The virtual environment was not created successfully because ensurepip'
        ' is not available." >&2\n'
        "  exit 1\n"
        "fi\n"
        f'exec {real} "$@"\n')
    (fake_bin / "python3").chmod(0o755)
    done = subprocess.run(["bash", "start.sh"], cwd=clone, capture_output=True, text=True,
                          env=user_env(PATH=f"{fake_bin}:{SYSTEM_PATH}"), timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert re.search(r"install its venv module .*apt-get install python3-venv", lines[0])
    assert not (clone / ".venv").exists()


def test_a_venv_left_without_pip_is_rebuilt(tmp_path):
    clone = _script_copy(tmp_path)
    subprocess.run(["python3", "-m", "venv", "--without-pip", ".venv"], cwd=clone, check=True)
    assert subprocess.run([".venv/bin/python", "-m", "pip", "--version"], cwd=clone,
                          capture_output=True).returncode != 0
    done = subprocess.run(["bash", "-c", ". scripts/venv.sh && ensure_venv"], cwd=clone,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "rebuilding" in done.stderr
    assert subprocess.run([".venv/bin/python", "-m", "pip", "--version"], cwd=clone,
                          capture_output=True).returncode == 0
