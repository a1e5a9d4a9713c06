"""``photon users add`` and ``photon tokens add``, run as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys

from app.access.passwords import Users
from app.access.tokens import Tokens
from tests.support import ROOT


def photon(args: list[str], tmp_path, stdin: str = "", **env: str):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PHOTON_")}
    return subprocess.run([sys.executable, "-m", "app", *args], input=stdin, text=True,
                          capture_output=True, cwd=tmp_path, timeout=60,
                          env={**clean, "PYTHONPATH": str(ROOT), **env})


def test_users_add_reads_the_password_from_stdin_and_writes_its_hash(tmp_path):
    users = tmp_path / "users"
    done = photon(["users", "add", "ann"], tmp_path, "first-password\n",
                  PHOTON_USERS_FILE=str(users))
    assert done.returncode == 0, done.stderr
    assert "first-password" not in users.read_text() + done.stdout + done.stderr
    assert Users(str(users)).verify("ann", "first-password")
    # --file stands for PHOTON_USERS_FILE (here PHOTON_AUTH=basic needs one to load at all)
    again = photon(["users", "add", "ann", "--file", str(users)], tmp_path, "second-password\n",
                   PHOTON_AUTH="basic")
    assert again.returncode == 0 and "replaced" in again.stdout
    assert Users(str(users)).verify("ann", "second-password")
    assert len(users.read_text().splitlines()) == 1


def test_users_add_refuses_a_short_password_and_a_missing_file_setting(tmp_path):
    short = photon(["users", "add", "ann", "--file", str(tmp_path / "u")], tmp_path, "abc\n")
    assert short.returncode == 2 and "8 characters" in short.stderr
    nowhere = photon(["users", "add", "ann"], tmp_path, "long-enough-pw\n")
    assert nowhere.returncode == 2 and "PHOTON_USERS_FILE" in nowhere.stderr


def test_tokens_add_prints_the_token_once_alone_on_its_last_line(tmp_path):
    tokens = tmp_path / "tokens"
    done = photon(["tokens", "add", "grafana"], tmp_path, PHOTON_API_TOKENS_FILE=str(tokens))
    assert done.returncode == 0, done.stderr
    token = done.stdout.splitlines()[-1]
    assert len(token) >= 40 and " " not in token
    assert token not in tokens.read_text()
    assert Tokens(str(tokens)).name_of(token) == "grafana"
