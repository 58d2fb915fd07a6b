"""The `running_bot` fixture: the bot world of tests.slack.world on the test's own fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.slack import world
from tests.slack.world import RunningBot, slack_settings

__all__ = ["RunningBot", "running_bot", "slack_settings"]


@pytest.fixture
async def running_bot(emulator, clock, fake_slack, tmp_path, request) -> AsyncIterator[RunningBot]:
    """The bot on the test's emulator, clock and stand-in Slack; a test's `policy(...)` and
    `admission(...)` markers say what it serves with."""
    policy = request.node.get_closest_marker("policy")
    admission = request.node.get_closest_marker("admission")
    async with world.running_bot(
        tmp_path / "bot.db",
        clock=clock,
        emulator=emulator,
        slack=fake_slack,
        policy=policy.args[0] if policy else None,
        admission=admission.args[0] if admission else None,
    ) as bot:
        yield bot
