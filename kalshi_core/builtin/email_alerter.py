"""Built-in alerter ``email``: one message per alert over SMTP with STARTTLS (aiosmtplib).

The password comes from ``.secrets.toml`` or ``KALSHI_ALERTERS__EMAIL__PASSWORD``; it is
never logged, and a failed delivery is reported by its error type only.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

import aiosmtplib

from kalshi_core.builtin.webhook_alerters import AlertDeliveryError, headline, plain_text
from kalshi_core.errors import ConfigError
from kalshi_core.hookspecs import hookimpl
from kalshi_core.protocols import Alert
from kalshi_core.settings_rules import Rule

SECTION = "alerters.email"
DEFAULTS: dict[str, Any] = {
    "host": "",
    "port": 587,
    "starttls": True,
    "username": "",
    "password": "",
    "sender": "",
    "recipients": [],
    "cert_bundle": "",
    "timeout_seconds": 20.0,
}
RULES = (
    Rule(key=f"{SECTION}.host", types=(str,), description="SMTP server"),
    Rule(key=f"{SECTION}.port", types=(int,), minimum=1, maximum=65535),
    Rule(key=f"{SECTION}.starttls", types=(bool,), description="upgrade with STARTTLS"),
    Rule(key=f"{SECTION}.username", types=(str,), description="SMTP login; empty = none"),
    Rule(key=f"{SECTION}.password", types=(str,), secret=True, description="SMTP password"),
    Rule(key=f"{SECTION}.sender", types=(str,), description="From address"),
    Rule(key=f"{SECTION}.recipients", types=(list,), description="To addresses"),
    Rule(key=f"{SECTION}.cert_bundle", types=(str,), description="CA file; empty = system"),
    Rule(key=f"{SECTION}.timeout_seconds", types=(int, float), minimum=0, maximum=300),
)


class EmailAlerter:
    """Sends each alert as a plain-text e-mail."""

    name = "email"

    def __init__(self, section: Mapping[str, Any]) -> None:
        self.host = str(section.get("host") or "")
        self.sender = str(section.get("sender") or "")
        self.recipients = [str(r) for r in section.get("recipients") or []]
        if not (self.host and self.sender and self.recipients):
            raise ConfigError(
                f"alerter 'email' needs {SECTION}.host, {SECTION}.sender and {SECTION}.recipients"
            )
        self.port = int(section.get("port", 587))
        self.starttls = bool(section.get("starttls", True))
        self._username = str(section.get("username") or "") or None
        self._password = str(section.get("password") or "") or None
        self.cert_bundle = str(section.get("cert_bundle") or "") or None
        self.timeout = float(section.get("timeout_seconds", 20.0))

    def message(self, alert: Alert) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Subject"] = f"kalshi-core {headline(alert)}"
        message.set_content(plain_text(alert, 100_000))
        return message

    async def send(self, alert: Alert) -> None:
        try:
            await aiosmtplib.send(
                self.message(alert),
                hostname=self.host,
                port=self.port,
                start_tls=self.starttls,
                username=self._username,
                password=self._password,
                cert_bundle=self.cert_bundle,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            raise AlertDeliveryError(f"email: {type(error).__name__}") from None


def make_email_alerter(section: Mapping[str, Any]) -> EmailAlerter:
    return EmailAlerter(section)


@hookimpl
def register_alerters(register: Any) -> None:
    register("email", make_email_alerter)


@hookimpl
def register_settings(register: Any) -> None:
    register(SECTION, dict(DEFAULTS), list(RULES))
