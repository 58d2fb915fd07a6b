"""Socket Mode: the app opens a WebSocket at a fake apps.connections.open and answers over it."""

from __future__ import annotations

from urllib.parse import parse_qsl

from bot.slack.app import SocketConnection, create_app, slack_client
from bot.slack.notify import Notifier
from bot.slack.people import Directory
from bot.slack.replies import Services
from bot.store.database import Store
from tests.conftest import make_client, make_source
from tests.slack.conftest import slack_settings
from tests.slack.fake_slack import APP_TOKEN, slash_command
from tests.slack.limits import check_message


async def test_socket_mode_answers_a_command(emulator, clock, fake_slack, tmp_path):
    emulator.ledger.create(["https://s.example.com/a.js"], "file", clock())
    settings = slack_settings(fake_slack, slack_app_token=APP_TOKEN, slack_signing_secret=None)
    async with make_client(emulator, clock) as cdn, slack_client(settings) as client:
        store = await Store.open(f"sqlite:///{tmp_path / 'bot.db'}")
        services = Services(
            find_tasks=make_source(cdn, clock).find,
            store=store,
            notifier=Notifier(client),
            people=Directory(client),
            clock=clock,
        )
        app = create_app(settings, services, client=client, socket_mode=True)
        socket = SocketConnection(app, APP_TOKEN)
        await socket.open()
        try:
            assert await socket.connected()
            opened = fake_slack.calls_of("apps.connections.open")
            assert len(opened) == 1
            hook = fake_slack.new_response_url()
            form = dict(parse_qsl(slash_command("s.example.com", response_url=hook).decode()))
            await fake_slack.send_over_socket(
                {
                    "envelope_id": "env-1",
                    "type": "slash_commands",
                    "accepts_response_payload": True,
                    "payload": form,
                }
            )
            ack = await fake_slack.wait_for(
                lambda: next(
                    (a for a in fake_slack.socket_acks if a.get("envelope_id") == "env-1"), None
                )
            )
            assert ack["envelope_id"] == "env-1"
            (reply,) = await fake_slack.response_to(hook)
        finally:
            await socket.close()
            await store.close()
    check_message(reply)
    rows = next(block for block in reply["blocks"] if block["type"] == "table")["rows"]
    assert rows[1][4]["text"] == "https://s.example.com/a.js"
