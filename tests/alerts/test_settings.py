"""The alert settings: the SMTP URL and its password (never in the URL, never shown)
and PHOTON_WEBHOOK_ALLOW_PRIVATE, read like every other setting."""

from __future__ import annotations

import pytest

from app.alerts.email import SmtpServer
from app.config import SettingError, load_settings


def test_the_smtp_password_comes_from_a_file_and_never_shows(tmp_path):
    secret = tmp_path / "smtp"
    secret.write_text("pw-from-a-file-9876\n")
    s = load_settings({"PHOTON_SMTP_URL": "smtp://mailer@mail.example:587?starttls=1",
                       "PHOTON_SMTP_PASSWORD_FILE": str(secret)}, env_file=tmp_path / "none")
    server = SmtpServer.from_settings(s)
    assert server.password.reveal() == "pw-from-a-file-9876"
    assert (server.user, server.port, server.starttls) == ("mailer", 587, True)
    for text in (repr(s), repr(server), str(server)):
        assert "pw-from-a-file-9876" not in text


def test_a_password_in_the_url_is_refused_without_showing_it(tmp_path):
    with pytest.raises(SettingError) as err:
        load_settings({"PHOTON_SMTP_URL": "smtp://mailer:hunter2-xyz@mail.example"},
                      env_file=tmp_path / "none")
    assert "PHOTON_SMTP_PASSWORD" in str(err.value) and "hunter2-xyz" not in str(err.value)


def test_no_smtp_url_no_e_mail_and_private_addresses_off_by_default(tmp_path):
    s = load_settings({}, env_file=tmp_path / "none")
    assert SmtpServer.from_settings(s) is None and s.webhook_allow_private is False
    with pytest.raises(SettingError, match="PHOTON_SMTP_URL"):
        load_settings({"PHOTON_SMTP_URL": "http://mail.example"}, env_file=tmp_path / "none")
