"""README's configuration table, ``.env.example`` and :class:`Settings` name the same
variables; the README and the pages under docs/ name only settings, files, bench modules
and ``photon`` options that exist."""

import re
import subprocess
import sys
from dataclasses import fields

import pytest

from app.config import Settings
from tests.support import ROOT


def readme_table_variables() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def settings_variables() -> set[str]:
    found = {f.metadata["var"].env for f in fields(Settings) if "var" in f.metadata}
    return found | {"FINNHUB_API_KEY", "FINNHUB_API_KEY_FILE", "ALPACA_API_KEY_ID",
                     "ALPACA_API_KEY_ID_FILE", "ALPACA_API_SECRET_KEY",
                     "ALPACA_API_SECRET_KEY_FILE", "PHOTON_COOKIE_SECRET",
                     "PHOTON_COOKIE_SECRET_FILE", "PHOTON_OAUTH_SECRET",
                     "PHOTON_OAUTH_SECRET_FILE", "PHOTON_SMTP_PASSWORD",
                     "PHOTON_SMTP_PASSWORD_FILE"}


def test_the_readme_table_lists_every_setting_and_no_other():
    assert readme_table_variables() == settings_variables()


def test_env_example_lists_every_variable_of_the_readme_table():
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, flags=re.M))
    assert readme_table_variables() <= listed


#: The pages a user reads: what they name must exist.
PAGES = ["README.md", "docs/architecture.md", "docs/performance.md", "bench/README.md"]


@pytest.mark.parametrize("page", PAGES)
def test_the_pages_name_only_settings_that_exist(page):
    text = (ROOT / page).read_text()
    named = set(re.findall(r"\b((?:PHOTON|FINNHUB|ALPACA)_[A-Z0-9_]+)", text))
    assert named <= settings_variables(), named - settings_variables()


@pytest.mark.parametrize("page", PAGES)
def test_the_pages_name_only_files_and_bench_modules_that_exist(page):
    text = (ROOT / page).read_text()
    paths = set(re.findall(r"`((?:app|bench|tests|deploy|docs|notebooks|recordings|scripts)"
                           r"/[A-Za-z0-9_./@-]+)`", text))
    assert not [p for p in paths if not (ROOT / p.rstrip("/")).exists()]
    modules = set(re.findall(r"python -m (bench(?:\.[a-z_]+)+)", text))
    missing = [m for m in modules
               if not (ROOT / (m.replace(".", "/") + ".py")).exists()
               and not (ROOT / m.replace(".", "/") / "__main__.py").exists()]
    assert not missing, missing


def readme_photon_commands() -> list[list[str]]:
    """Each ``photon`` (or ``bash start.sh``) command line of the README's bash blocks."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    lines = [line.split("#", 1)[0].split() for block in blocks for line in block.splitlines()]
    return [words[1:] for words in lines
            if words and words[0] in (".venv/bin/photon", "photon")] + [
        words[2:] for words in lines if words[:2] == ["bash", "start.sh"]]


def test_the_readme_photon_commands_use_options_photon_has():
    commands = readme_photon_commands()
    assert len(commands) >= 8
    helps: dict[str, str] = {}
    for argv in commands:
        # `photon users add NAME` and `photon tokens add NAME` have their own options
        sub = " ".join(argv[:2]) if argv[:1] in (["users"], ["tokens"]) else (
            argv[0] if argv and argv[0] in ("relay", "record") else "")
        if sub not in helps:
            helps[sub] = subprocess.run([sys.executable, "-m", "app", *sub.split(),
                                         "--help"], capture_output=True, text=True, cwd=ROOT,
                                        check=True).stdout
        for flag in (a.split("=", 1)[0] for a in argv if a.startswith("--")):
            assert re.search(rf"{re.escape(flag)}\b", helps[sub]), (argv, flag)
