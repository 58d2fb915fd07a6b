"""`/cdn help` teaches the writes: refresh, prefetch, their options, the confirmation, Retry."""

from __future__ import annotations

import json

import pytest

from bot.slack.help import help_reply
from tests.slack.limits import check_message


@pytest.mark.parametrize("topic", ["refresh", "prefetch", "retry", None])
def test_help_shows_the_write_commands_and_their_options(topic):
    payload = help_reply(topic).payload()
    check_message(payload)
    text = json.dumps(payload, ensure_ascii=False)
    for words in ("/cdn refresh https://", "type:dir", "type:regex", "type:ignoreparams"):
        assert words in text
    for words in ("force", "/cdn prefetch", "area:overseas", "quota", "Retry failed", "--yes"):
        assert words in text


@pytest.mark.parametrize("topic", ["stats", "chart", None])
def test_help_teaches_stats_and_the_chart(topic):
    payload = help_reply(topic).payload()
    check_message(payload)
    text = json.dumps(payload, ensure_ascii=False)
    for words in ("/cdn stats", "domain:www.example.com", "median and p90", "Share to channel"):
        assert words in text
    assert "DM with the bot" in text and 'query \\"stats' in text


@pytest.mark.parametrize("topic", ["subscribe", "stuck"])
def test_help_teaches_stuck_notices_and_how_to_leave_them_out(topic):
    text = str(help_reply(topic).payload())
    assert "thread" in text and "`/cdn subscribe stuck:off`" in text
