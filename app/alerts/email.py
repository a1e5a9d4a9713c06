"""E-mail delivery through the SMTP server of ``PHOTON_SMTP_URL``, with the standard
library (``smtplib``, ``email.message``).

``smtp://[user@]host[:port]`` speaks STARTTLS whenever the server offers it (and
insists on it with ``?starttls=1``); ``smtps://`` is TLS from the first byte (port 465
by default). ``?from=ADDRESS`` sets the sender (default ``photon@`` this host's name).
The password comes from ``PHOTON_SMTP_PASSWORD(_FILE)`` as a
:class:`~app.config.Secret`, never from the URL, and never shows in a reason, a repr
or a log line. Blocking by nature: the outbox runs it in an executor.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from app.alerts.delivery import SENT, Attempt
from app.alerts.records import Firing
from app.config import Secret, SettingError, Settings
from app.runtime.logs import protect, redact

TIMEOUT_S = 15.0

_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]\\]{1,64}@[A-Za-z0-9.-]{1,253}$")


def address_problem(address: str) -> str | None:
    """What is wrong with an e-mail address (one line), or None. Strict on purpose: no
    names, no lists, nothing a header could be smuggled in with."""
    return None if _ADDRESS.match(address) else "the e-mail must be one address: name@host"


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to send: parsed from ``PHOTON_SMTP_URL``."""

    host: str
    port: int
    tls: bool
    """TLS from the start (``smtps://``)."""
    starttls: bool | None
    """True: required; None: when offered (``smtp://``)."""
    user: str
    sender: str
    password: Secret = field(default_factory=lambda: Secret(""), repr=False)

    @classmethod
    def from_url(cls, url: str, password: Secret | None = None) -> SmtpServer:
        """Parse ``url``; :class:`SettingError` (one line, naming the variable) if bad."""
        def bad(why: str) -> SettingError:
            return SettingError(f"PHOTON_SMTP_URL is not allowed: {why}", "PHOTON_SMTP_URL")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise bad("must be smtp://[user@]host[:port] or smtps://…") from None
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise bad("must be smtp://[user@]host[:port] or smtps://…")
        if parts.password is not None:
            raise bad("holds a password: give it in PHOTON_SMTP_PASSWORD(_FILE) instead")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        tls = parts.scheme == "smtps"
        starttls = None if tls else (True if query.get("starttls") == "1" else None)
        sender = query.get("from") or f"photon@{socket.getfqdn()}"
        if address_problem(sender):
            raise bad("?from= must be one address: name@host")
        secret = password or Secret("")
        if secret:
            protect(secret.reveal())
        return cls(parts.hostname, port or (465 if tls else 25), tls, starttls,
                   unquote(parts.username or ""), sender, secret)

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpServer | None:
        if not settings.smtp_url:
            return None
        return cls.from_url(settings.smtp_url, settings.smtp_password)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def message(server: SmtpServer, to: str, firing: Firing) -> EmailMessage:
    msg = EmailMessage()
    if firing.test:
        msg["Subject"] = "Photon test alert"
    else:
        msg["Subject"] = f"Photon alert: {firing.condition} ({firing.symbol} {firing.price:g})"
    msg["From"] = server.sender
    msg["To"] = to
    msg["Date"] = formatdate(firing.fired_at, usegmt=True)
    msg["Message-ID"] = make_msgid("photon-alert")
    msg["X-Photon-Alert-Id"] = firing.id
    lines = [firing.text(), ""]
    if not firing.test:
        lines += [f"Symbol:     {firing.symbol}", f"Condition:  {firing.condition}",
                  f"Price:      {firing.price:g}", f"Trade time: {_utc(firing.trade_time)}",
                  f"Board:      {firing.board}"]
    lines += [f"Fired at:   {_utc(firing.fired_at)}", f"Alert id:   {firing.id}"]
    msg.set_content("\n".join(lines) + "\n")
    return msg


def _utc(ts: float) -> str:
    return formatdate(ts, usegmt=True)


def send(server: SmtpServer, to: str, firing: Firing, timeout_s: float = TIMEOUT_S) -> Attempt:
    """One attempt to mail ``firing`` to ``to`` (blocking): sent, to retry (no answer,
    a 4xx), or failed for good (a 5xx refusal, refused credentials, no STARTTLS)."""
    if why := address_problem(to):
        return Attempt(False, False, why)
    try:
        _send(server, to, message(server, to, firing), timeout_s)
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        return _refused(code, text, f"the server refused the recipient {to}")
    except smtplib.SMTPAuthenticationError as exc:
        return Attempt(False, False, _clean(f"the server refused the sign-in of {server.user} "
                                            f"({exc.smtp_code} {_text(exc.smtp_error)})"))
    except smtplib.SMTPNotSupportedError as exc:
        return Attempt(False, False, _clean(f"{server.where}: {exc}"))
    except smtplib.SMTPConnectError as exc:
        return _refused(exc.smtp_code, exc.smtp_error, f"{server.where} refused the connection")
    except smtplib.SMTPResponseException as exc:
        return _refused(exc.smtp_code, exc.smtp_error, f"{server.where} refused the message")
    except smtplib.SMTPServerDisconnected as exc:
        return Attempt(False, True, _clean(f"{server.where} hung up ({exc})"))
    except ssl.SSLError as exc:
        return Attempt(False, False, _clean(f"{server.where}: TLS failed ({exc.reason})"))
    except TimeoutError:
        return Attempt(False, True, f"{server.where} did not answer within {timeout_s:g} s")
    except OSError as exc:
        return Attempt(False, True, f"cannot connect to {server.where} "
                                    f"({exc.strerror or type(exc).__name__})")
    except smtplib.SMTPException as exc:
        return Attempt(False, False, _clean(f"{server.where}: {exc}"))
    return SENT


def _send(server: SmtpServer, to: str, msg: EmailMessage, timeout_s: float) -> None:
    context = ssl.create_default_context()
    if server.tls:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout_s,
                                              context=context)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=timeout_s)
    with smtp:
        smtp.ehlo()
        if not server.tls:
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            elif server.starttls:
                raise smtplib.SMTPNotSupportedError(
                    "the server does not offer STARTTLS (?starttls=1 requires it)")
        if server.user:
            smtp.login(server.user, server.password.reveal())
        smtp.send_message(msg, from_addr=server.sender, to_addrs=[to])


def _refused(code: int, text: bytes | str, what: str) -> Attempt:
    return Attempt(False, 400 <= code < 500, _clean(f"{what}: {code} {_text(text)}"))


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


def _clean(reason: str) -> str:
    """One line, at most 300 characters, secrets masked (a server may echo anything)."""
    return redact(" ".join(reason.split()))[:300]
