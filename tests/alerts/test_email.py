"""E-mail delivery against an SMTP server the test starts on loopback (aiosmtpd): the
message arrives; a refusing server, refused credentials and a missing STARTTLS are
clear recorded failures; the password never shows."""

from __future__ import annotations

import asyncio
import email as email_lib
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from app.alerts import email
from app.alerts.outbox import Outbox
from app.alerts.records import Delivery, Firing, State
from app.alerts.store import AlertStore
from app.config import Secret, SettingError
from tests.alerts.receivers import free_port

PASSWORD = "pw-very-secret-1234"


class Inbox:
    """Keeps each message; refuses recipients or data when told to."""

    def __init__(self, refuse_rcpt: str = "", refuse_data: str = ""):
        self.messages: list[tuple[str, list[str], email_lib.message.EmailMessage]] = []
        self.refuse_rcpt, self.refuse_data = refuse_rcpt, refuse_data

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.refuse_data:
            return self.refuse_data
        msg = email_lib.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted"


@pytest.fixture
def smtpd():
    started = []

    def start(inbox: Inbox, **kw) -> str:
        port = free_port()
        ctl = Controller(inbox, hostname="127.0.0.1", port=port, **kw)
        ctl.start()
        started.append(ctl)
        return f"smtp://127.0.0.1:{port}"
    yield start
    for ctl in started:
        ctl.stop()


def firing(**kw) -> Firing:
    base = dict(user="ann", board="tech", symbol="AAPL", condition="AAPL>230.5", price=231.25,
                trade_time=1_700_000_000.0, fired_at=1_700_000_001.0, alert_id="a1")
    return Firing(**(base | kw))


def test_the_smtp_server_receives_the_alert(smtpd):
    inbox = Inbox()
    server = email.SmtpServer.from_url(smtpd(inbox) + "?from=alerts@photon.example")
    f = firing()
    assert email.send(server, "ann@example.com", f).ok
    [(sender, to, msg)] = inbox.messages
    assert (sender, to) == ("alerts@photon.example", ["ann@example.com"])
    assert msg["Subject"] == "Photon alert: AAPL>230.5 (AAPL 231.25)"
    assert msg["X-Photon-Alert-Id"] == f.id
    body = msg.get_content()
    assert "AAPL traded at 231.25" in body and f.id in body and "Board:      tech" in body


def test_the_outbox_mails_each_firing_and_a_test_alert(smtpd, tmp_path):
    inbox = Inbox()
    store = AlertStore(tmp_path / "alerts.sqlite3")
    store.set_delivery_settings("ann", None, "ann@example.com")
    f = firing()
    store.log_test(f)

    async def go():
        outbox = Outbox(store, smtp=email.SmtpServer.from_url(smtpd(inbox)))
        try:
            return await outbox.deliver(f), await outbox.send_test("ann")
        finally:
            await outbox.close()
    sent, tested = asyncio.run(go())
    assert sent == tested == {"email": Delivery("email", State.SENT, 1)}
    assert [m["Subject"] for _, _, m in inbox.messages] == [
        "Photon alert: AAPL>230.5 (AAPL 231.25)", "Photon test alert"]
    [(test, deliveries), (logged, _)] = store.log("ann")
    assert test.test and deliveries == tested and logged == f


def test_a_refusing_server_is_a_recorded_failure_not_retried(smtpd, tmp_path):
    url = smtpd(Inbox(refuse_rcpt="550 5.1.1 No such mailbox"))
    store = AlertStore(tmp_path / "alerts.sqlite3")
    store.set_delivery_settings("ann", None, "nobody@example.com")
    f = firing()
    store.log_test(f)

    async def go():
        outbox = Outbox(store, smtp=email.SmtpServer.from_url(url), schedule=(0.01, 0.01))
        return await outbox.deliver(f)
    got = asyncio.run(go())["email"]
    assert (got.state, got.attempts) == (State.FAILED, 1)
    assert got.reason == ("the server refused the recipient nobody@example.com: "
                          "550 5.1.1 No such mailbox")
    assert store.deliveries(f.id) == {"email": got}


def test_a_refused_message_and_a_busy_server(smtpd):
    refused = email.send(email.SmtpServer.from_url(smtpd(Inbox(refuse_data="554 5.7.1 Spam"))),
                         "ann@example.com", firing())
    assert (refused.ok, refused.retry) == (False, False) and "554 5.7.1 Spam" in refused.reason
    busy = email.send(email.SmtpServer.from_url(smtpd(Inbox(refuse_data="451 4.3.0 Try later"))),
                      "ann@example.com", firing())
    assert (busy.ok, busy.retry) == (False, True) and "451 4.3.0 Try later" in busy.reason


def test_refused_credentials_are_named_without_the_password(smtpd):
    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)
    url = smtpd(Inbox(), authenticator=authenticator, auth_require_tls=False)
    server = email.SmtpServer.from_url(url.replace("//", "//mailer@"), Secret(PASSWORD))
    got = email.send(server, "ann@example.com", firing())
    assert (got.ok, got.retry) == (False, False)
    assert got.reason.startswith("the server refused the sign-in of mailer (535")
    assert PASSWORD not in got.reason and PASSWORD not in repr(server)


def test_credentials_accepted_then_sent(smtpd):
    inbox = Inbox()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"mailer" and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok)
    url = smtpd(inbox, authenticator=authenticator, auth_require_tls=False)
    server = email.SmtpServer.from_url(url.replace("//", "//mailer@"), Secret(PASSWORD))
    assert email.send(server, "ann@example.com", firing()).ok and len(inbox.messages) == 1


def test_starttls_required_but_not_offered_fails_clearly(smtpd):
    server = email.SmtpServer.from_url(smtpd(Inbox()) + "?starttls=1")
    got = email.send(server, "ann@example.com", firing())
    assert (got.ok, got.retry) == (False, False)
    assert "does not offer STARTTLS" in got.reason


def test_nobody_listening_is_worth_a_retry():
    server = email.SmtpServer.from_url(f"smtp://127.0.0.1:{free_port()}")
    got = email.send(server, "ann@example.com", firing(), timeout_s=2)
    assert (got.ok, got.retry) == (False, True) and got.reason.startswith("cannot connect to")


def test_no_smtp_server_set_is_a_clear_failure(tmp_path):
    store = AlertStore(tmp_path / "alerts.sqlite3")
    store.set_delivery_settings("ann", None, "ann@example.com")
    got = asyncio.run(Outbox(store).send_test("ann"))["email"]
    assert got.state is State.FAILED and "PHOTON_SMTP_URL" in got.reason


@pytest.mark.parametrize("url, port, tls", [("smtp://mail.example", 25, False),
                                            ("smtps://mail.example", 465, True),
                                            ("smtp://u@mail.example:587?starttls=1", 587, False)])
def test_urls(url, port, tls):
    server = email.SmtpServer.from_url(url)
    assert (server.host, server.port, server.tls) == ("mail.example", port, tls)


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "smtp://u:pw@mail.example",
                                 "smtp://mail.example?from=a,b@c"])
def test_bad_urls_are_one_line_setting_errors(url):
    with pytest.raises(SettingError, match="^PHOTON_SMTP_URL is not allowed") as err:
        email.SmtpServer.from_url(url)
    assert "pw" not in str(err.value)


@pytest.mark.parametrize("address", ["ann", "ann@", "a b@example.com", "Ann <ann@example.com>",
                                     "ann@example.com\nBcc: x@y", "a@b,c@d"])
def test_addresses_that_could_smuggle_headers_are_refused(address):
    assert email.address_problem(address)
    assert email.send(email.SmtpServer.from_url("smtp://127.0.0.1:9"), address,
                      firing()).reason == "the e-mail must be one address: name@host"
