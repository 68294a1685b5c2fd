"""Built-in alerters over HTTP: ``slack``, ``discord``, ``telegram`` and a generic ``webhook``.

Each is a few lines on httpx with its whole address configurable (a Slack or Discord webhook
URL, Telegram's ``base_url``), so tests deliver to a real local receiver. apprise would cover
these channels too, but it hard-codes each service's host, so it could not be tested against
a local server; httpx is already a dependency.

Webhook URLs and the Telegram bot token are credentials: keep them in ``.secrets.toml`` or
``KALSHI_ALERTERS__<NAME>__...`` variables. Errors name the channel and the HTTP status,
never the URL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from kalshi_core.errors import ConfigError, KalshiCoreError
from kalshi_core.hookspecs import hookimpl
from kalshi_core.protocols import Alert
from kalshi_core.settings_rules import Rule

TIMEOUT_SECONDS = 10.0
DISCORD_LIMIT = 2000  # characters per message
TELEGRAM_LIMIT = 4096
Payload = Callable[[Alert], dict[str, Any]]


class AlertDeliveryError(KalshiCoreError):
    """A channel refused or could not take an alert (retried by the router)."""


def headline(alert: Alert) -> str:
    return f"[{alert.severity.upper()}] {alert.title}"


def plain_text(alert: Alert, limit: int) -> str:
    details = "".join(f"\n{k}: {v}" for k, v in sorted(alert.fields.items()))
    text = f"{headline(alert)}\n{alert.body}{details}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_payload(alert: Alert) -> dict[str, Any]:
    return {"text": f"*{headline(alert)}*\n{alert.body}"}


def discord_payload(alert: Alert) -> dict[str, Any]:
    return {"content": plain_text(alert, DISCORD_LIMIT), "username": "kalshi-core"}


def webhook_payload(alert: Alert) -> dict[str, Any]:
    created = alert.created_time.isoformat() if alert.created_time else None
    return {
        "title": alert.title,
        "body": alert.body,
        "severity": alert.severity,
        "created_time": created,
        "fields": dict(alert.fields),
    }


class HttpAlerter:
    """POSTs one JSON document per alert; any non-2xx answer is a failed delivery."""

    def __init__(
        self,
        name: str,
        url: str,
        payload: Payload,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.name = name
        self._url = url
        self._payload = payload
        self._headers = dict(headers or {})
        self._timeout = timeout

    async def send(self, alert: Alert) -> None:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(
                    self._url, json=self._payload(alert), headers=self._headers
                )
        except httpx.HTTPError as error:  # its message may contain the URL: keep the type
            raise AlertDeliveryError(f"{self.name}: {type(error).__name__}") from None
        if not response.is_success:
            raise AlertDeliveryError(f"{self.name}: HTTP {response.status_code}")


def _required(section: Mapping[str, Any], name: str, key: str) -> str:
    value = str(section.get(key) or "")
    if not value:
        raise ConfigError(
            f"alerter {name!r} needs alerters.{name}.{key} (keep it in .secrets.toml or "
            f"KALSHI_ALERTERS__{name.upper()}__{key.upper()})"
        )
    return value


def _timeout(section: Mapping[str, Any]) -> float:
    return float(section.get("timeout_seconds", TIMEOUT_SECONDS))


def make_slack(section: Mapping[str, Any]) -> HttpAlerter:
    url = _required(section, "slack", "webhook_url")
    return HttpAlerter("slack", url, slack_payload, timeout=_timeout(section))


def make_discord(section: Mapping[str, Any]) -> HttpAlerter:
    url = _required(section, "discord", "webhook_url")
    return HttpAlerter("discord", url, discord_payload, timeout=_timeout(section))


def make_telegram(section: Mapping[str, Any]) -> HttpAlerter:
    token = _required(section, "telegram", "bot_token")
    chat_id = _required(section, "telegram", "chat_id")
    base = str(section.get("base_url") or "https://api.telegram.org").rstrip("/")

    def payload(alert: Alert) -> dict[str, Any]:
        return {"chat_id": chat_id, "text": plain_text(alert, TELEGRAM_LIMIT)}

    url = f"{base}/bot{token}/sendMessage"
    return HttpAlerter("telegram", url, payload, timeout=_timeout(section))


def make_webhook(section: Mapping[str, Any]) -> HttpAlerter:
    url = _required(section, "webhook", "url")
    token = str(section.get("bearer_token") or "")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return HttpAlerter("webhook", url, webhook_payload, headers=headers, timeout=_timeout(section))


def _timeout_rule(name: str) -> Rule:
    return Rule(
        key=f"alerters.{name}.timeout_seconds",
        types=(int, float),
        minimum=0,
        exclusive_minimum=True,
        maximum=120,
        description="HTTP timeout per delivery attempt",
    )


SETTINGS: tuple[tuple[str, dict[str, Any], list[Rule]], ...] = (
    (
        "alerters.slack",
        {"webhook_url": "", "timeout_seconds": TIMEOUT_SECONDS},
        [
            Rule(
                key="alerters.slack.webhook_url",
                types=(str,),
                secret=True,
                description="Slack incoming-webhook URL",
            ),
            _timeout_rule("slack"),
        ],
    ),
    (
        "alerters.discord",
        {"webhook_url": "", "timeout_seconds": TIMEOUT_SECONDS},
        [
            Rule(
                key="alerters.discord.webhook_url",
                types=(str,),
                secret=True,
                description="Discord webhook URL",
            ),
            _timeout_rule("discord"),
        ],
    ),
    (
        "alerters.telegram",
        {
            "base_url": "https://api.telegram.org",
            "bot_token": "",
            "chat_id": "",
            "timeout_seconds": TIMEOUT_SECONDS,
        },
        [
            Rule(key="alerters.telegram.base_url", types=(str,), description="Bot API URL"),
            Rule(
                key="alerters.telegram.bot_token",
                types=(str,),
                secret=True,
                description="bot token from @BotFather",
            ),
            Rule(key="alerters.telegram.chat_id", types=(str, int), description="chat to post to"),
            _timeout_rule("telegram"),
        ],
    ),
    (
        "alerters.webhook",
        {"url": "", "bearer_token": "", "timeout_seconds": TIMEOUT_SECONDS},
        [
            Rule(
                key="alerters.webhook.url",
                types=(str,),
                secret=True,
                description="URL that receives one JSON document per alert",
            ),
            Rule(
                key="alerters.webhook.bearer_token",
                types=(str,),
                secret=True,
                description="sent as 'Authorization: Bearer ...' when set",
            ),
            _timeout_rule("webhook"),
        ],
    ),
)


@hookimpl
def register_alerters(register: Any) -> None:
    register("slack", make_slack)
    register("discord", make_discord)
    register("telegram", make_telegram)
    register("webhook", make_webhook)


@hookimpl
def register_settings(register: Any) -> None:
    for section, defaults, rules in SETTINGS:
        register(section, dict(defaults), list(rules))
