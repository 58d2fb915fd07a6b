"""The bot's HTTP app on 127.0.0.1:0, wired to the emulator and the fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from aiohttp import web

from bot.cdn.emulator.demo import seed_history
from bot.config import Settings
from bot.core.access import Policy
from bot.slack.admission import Admission
from bot.slack.app import create_app, slack_client, web_application
from bot.slack.notify import Notifier
from bot.slack.people import Directory
from bot.slack.replies import Services
from bot.store.database import Store
from tests.conftest import make_client, make_source
from tests.slack.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, signed_headers


def slack_settings(slack: FakeSlack, **extra) -> Settings:
    values = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        **extra,
    }
    return Settings(**values)


@dataclass
class RunningBot:
    url: str
    slack: FakeSlack
    http: httpx.AsyncClient
    store: Store

    async def post(self, body: bytes, **header_options) -> httpx.Response:
        return await self.http.post(
            f"{self.url}/slack/events", content=body, headers=signed_headers(body, **header_options)
        )


@pytest.fixture
async def running_bot(emulator, clock, fake_slack, tmp_path, request) -> AsyncIterator[RunningBot]:
    seed_history(emulator.ledger, 120, now=clock())
    settings = slack_settings(fake_slack)
    async with make_client(emulator, clock) as cdn, slack_client(settings) as client:
        store = Store(f"sqlite:///{tmp_path / 'bot.db'}")
        marker = request.node.get_closest_marker("policy") if request else None
        admission = request.node.get_closest_marker("admission") if request else None
        services = Services(
            find_tasks=make_source(cdn, clock, ttl=60).find,
            store=store,
            notifier=Notifier(client),
            people=Directory(client),
            clock=clock,
            policy=marker.args[0] if marker else Policy(),
            admission=admission.args[0] if admission else Admission(),
        )
        app = create_app(settings, services, client=client)

        async def health():
            return {"ok": True, "mode": "http", "cdn": "emulator"}

        runner = web.AppRunner(web_application(app, health), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with httpx.AsyncClient(timeout=10) as http:
            yield RunningBot(url, fake_slack, http, store)
        await runner.cleanup()
        store.close()
