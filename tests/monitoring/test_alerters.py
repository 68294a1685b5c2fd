"""Each alerter delivers to a real local server: an HTTP receiver, and aiosmtpd for e-mail."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from kalshi_core.builtin.email_alerter import EmailAlerter
from kalshi_core.builtin.webhook_alerters import (
    AlertDeliveryError,
    make_discord,
    make_slack,
    make_telegram,
    make_webhook,
)
from kalshi_core.clock import ManualClock
from kalshi_core.engine.alert_policy import AlertPolicy
from kalshi_core.engine.alerts import AlertRouter
from kalshi_core.errors import ConfigError
from kalshi_core.protocols import Alert
from tests.monitoring.conftest import Receiver
from tests.tls import self_signed_loopback

ALERT = Alert(
    title="risk limit: max_daily_loss",
    body="portfolio fell 11%",
    severity="critical",
    created_time=datetime(2026, 1, 2, 15, tzinfo=UTC),
    fields={"rule": "max_daily_loss"},
)


async def test_slack_posts_text(receiver: Receiver) -> None:
    await make_slack({"webhook_url": f"{receiver.url}/services/T0/B0/x"}).send(ALERT)
    [body] = receiver.bodies("/services/T0/B0/x")
    assert body == {"text": "*[CRITICAL] risk limit: max_daily_loss*\nportfolio fell 11%"}


async def test_discord_posts_content_within_its_limit(receiver: Receiver) -> None:
    long = Alert(title="t", body="x" * 5000, severity="warning")
    await make_discord({"webhook_url": f"{receiver.url}/api/webhooks/1/abc"}).send(long)
    [body] = receiver.bodies("/api/webhooks/1/abc")
    assert body["username"] == "kalshi-core"
    assert len(body["content"]) == 2000
    assert body["content"].startswith("[WARNING] t\nxxx")


async def test_telegram_uses_the_bot_api_path(receiver: Receiver) -> None:
    section = {"base_url": receiver.url, "bot_token": "123:SECRET", "chat_id": -100}
    await make_telegram(section).send(ALERT)
    [body] = receiver.bodies("/bot123:SECRET/sendMessage")
    assert body["chat_id"] == "-100"
    assert body["text"].startswith("[CRITICAL] risk limit: max_daily_loss\nportfolio fell 11%")
    assert "rule: max_daily_loss" in body["text"]


async def test_webhook_posts_the_alert_as_json_with_a_bearer_token(receiver: Receiver) -> None:
    await make_webhook({"url": f"{receiver.url}/hook", "bearer_token": "tok"}).send(ALERT)
    [(path, body, headers)] = receiver.received
    assert path == "/hook"
    assert body == {
        "title": "risk limit: max_daily_loss",
        "body": "portfolio fell 11%",
        "severity": "critical",
        "created_time": "2026-01-02T15:00:00+00:00",
        "fields": {"rule": "max_daily_loss"},
    }
    assert headers["authorization"] == "Bearer tok"


async def test_a_refusing_channel_raises_without_its_url(receiver: Receiver) -> None:
    receiver.failures = 1
    alerter = make_slack({"webhook_url": f"{receiver.url}/services/SECRET-TOKEN"})
    with pytest.raises(AlertDeliveryError) as raised:
        await alerter.send(ALERT)
    assert str(raised.value) == "slack: HTTP 500"


async def test_an_unreachable_channel_raises_without_its_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    alerter = make_telegram(
        {"base_url": f"http://127.0.0.1:{port}", "bot_token": "SECRET", "chat_id": "1"}
    )
    with pytest.raises(AlertDeliveryError) as raised:
        await alerter.send(ALERT)
    assert "SECRET" not in str(raised.value)
    assert str(raised.value).startswith("telegram: ")


@pytest.mark.parametrize(
    ("factory", "section", "missing"),
    [
        (make_slack, {}, "alerters.slack.webhook_url"),
        (make_discord, {"webhook_url": ""}, "alerters.discord.webhook_url"),
        (make_telegram, {"bot_token": "x"}, "alerters.telegram.chat_id"),
        (make_webhook, {}, "alerters.webhook.url"),
    ],
)
def test_a_channel_without_its_address_is_a_config_error(
    factory: Any, section: dict[str, Any], missing: str
) -> None:
    with pytest.raises(ConfigError, match=missing):
        factory(section)


async def test_router_retries_a_failing_channel_until_it_answers(receiver: Receiver) -> None:
    receiver.failures = 2
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    policy = AlertPolicy(retry_attempts=4, retry_backoff_seconds=0.5)
    outcomes: list[tuple[str, str]] = []
    router = AlertRouter(
        [make_webhook({"url": f"{receiver.url}/hook"})],
        ManualClock(),
        policy,
        observer=lambda channel, outcome: outcomes.append((channel, outcome)),
        sleep=sleep,
    )
    router.send(ALERT)
    await router.flush()
    assert receiver.attempts == 3
    assert len(receiver.bodies("/hook")) == 1
    assert waits == [0.5, 1.0]  # exponential backoff between attempts
    assert outcomes == [("webhook", "sent")]


async def test_router_gives_up_after_its_attempts_and_says_so(receiver: Receiver) -> None:
    receiver.failures = 10

    async def sleep(seconds: float) -> None:
        pass

    outcomes: list[str] = []
    router = AlertRouter(
        [make_webhook({"url": f"{receiver.url}/hook"})],
        ManualClock(),
        AlertPolicy(retry_attempts=3),
        observer=lambda channel, outcome: outcomes.append(outcome),
        sleep=sleep,
    )
    router.send(ALERT)
    await router.flush()
    assert receiver.attempts == 3
    assert outcomes == ["failed"]


# ---- e-mail over a real SMTP server with STARTTLS and AUTH ----


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"bot", b"hunter2")
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[Mailbox, int, Path]]:
    cert, key = self_signed_loopback(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        authenticator=_authenticate,
    )
    controller.start()
    try:
        yield mailbox, port, cert
    finally:
        controller.stop()


def _email_section(port: int, cert: Path, password: str) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "starttls": True,
        "username": "bot",
        "password": password,
        "sender": "bot@example.test",
        "recipients": ["ops@example.test", "oncall@example.test"],
        "cert_bundle": str(cert),
        "timeout_seconds": 10,
    }


async def test_email_goes_out_over_starttls_with_credentials(
    smtp: tuple[Mailbox, int, Path],
) -> None:
    mailbox, port, cert = smtp
    await EmailAlerter(_email_section(port, cert, "hunter2")).send(ALERT)
    [envelope] = mailbox.messages
    assert envelope.rcpt_tos == ["ops@example.test", "oncall@example.test"]
    message = message_from_bytes(envelope.content)
    assert message["Subject"] == "kalshi-core [CRITICAL] risk limit: max_daily_loss"
    assert "portfolio fell 11%" in message.get_payload()


async def test_email_with_a_wrong_password_fails_without_leaking_it(
    smtp: tuple[Mailbox, int, Path],
) -> None:
    mailbox, port, cert = smtp
    with pytest.raises(AlertDeliveryError) as raised:
        await EmailAlerter(_email_section(port, cert, "wrong-pw")).send(ALERT)
    assert "wrong-pw" not in str(raised.value)
    assert mailbox.messages == []


def test_email_needs_host_sender_and_recipients() -> None:
    with pytest.raises(ConfigError, match=r"alerters\.email\.host"):
        EmailAlerter({"sender": "a@b", "recipients": []})
