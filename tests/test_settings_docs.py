"""README's configuration table, ``.env.example`` and :class:`Settings` name the same variables."""

import re
from dataclasses import fields

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
                     "PHOTON_OAUTH_SECRET_FILE"}


def test_the_readme_table_lists_every_setting_and_no_other():
    assert readme_table_variables() == settings_variables()


def test_env_example_lists_every_variable_of_the_readme_table():
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, flags=re.M))
    assert readme_table_variables() <= listed
