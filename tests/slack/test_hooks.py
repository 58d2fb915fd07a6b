"""Which response_urls a reply may go to."""

from __future__ import annotations

import pytest

from bot.slack.hooks import ReplyHosts, reply_hosts

SLACK = reply_hosts("https://slack.com/api/")
PLAYGROUND = reply_hosts("http://127.0.0.1:3000/api/")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.slack.com/commands/T1/1/abc", True),
        ("https://hooks.slack.com/actions/T1/1/abc", True),
        ("https://HOOKS.SLACK.COM/app/T1/1/abc", True),
        ("https://hooks.slack.com:443/commands/T1/1/abc", True),
        ("https://hooks.slack-gov.com/commands/T1/1/abc", True),
        ("http://hooks.slack.com/commands/T1/1/abc", False),
        ("https://hooks.slack.com:8443/commands/T1/1/abc", False),
        ("https://hooks.slack.com.evil.example/x", False),
        ("https://evil.example/hooks.slack.com/x", False),
        ("https://hooks.slack.com@evil.example/x", False),
        ("https://user:pw@hooks.slack.com/x", False),
        ("https://evil.example\\@hooks.slack.com/x", False),
        ("https://hooks.slack.com/x\n", False),
        (" https://hooks.slack.com/x", False),
        ("//hooks.slack.com/x", False),
        ("ftp://hooks.slack.com/x", False),
        ("https://slack.com/api/chat.postMessage", False),
        ("http://127.0.0.1:3000/playground/respond/1", False),
        ("", False),
        (None, False),
        (12, False),
        (["https://hooks.slack.com/x"], False),
    ],
)
def test_only_slacks_own_hosts_by_default(url, allowed):
    assert SLACK.allows(url) is allowed
    assert ReplyHosts().allows(url) is allowed


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:3000/playground/respond/1", True),
        ("https://hooks.slack.com/commands/T1/1/abc", True),
        ("http://127.0.0.1:3001/playground/respond/1", False),
        ("https://127.0.0.1:3000/playground/respond/1", False),
        ("http://localhost:3000/playground/respond/1", False),
        ("http://127.0.0.1/playground/respond/1", False),
    ],
)
def test_a_stand_in_for_slack_adds_its_own_origin_only(url, allowed):
    assert PLAYGROUND.allows(url) is allowed


def test_slacks_own_api_hosts_add_nothing():
    assert reply_hosts("https://slack.com/api/") == ReplyHosts()
    assert reply_hosts("https://example.enterprise.slack.com/api/") == ReplyHosts()
    assert reply_hosts("https://slack-gov.com/api/") == ReplyHosts()


def test_extra_origins_are_exact():
    hosts = reply_hosts("https://slack.com/api/", extra=["https://relay.example.com/base/"])
    assert hosts.allows("https://relay.example.com/anything")
    assert not hosts.allows("http://relay.example.com/anything")
    assert not hosts.allows("https://relay.example.com:8443/anything")
