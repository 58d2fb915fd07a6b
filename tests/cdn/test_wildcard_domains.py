"""`domain:*.example.com` in queries: the account's domains under it, merged exactly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.cdn.emulator.ledger import LedgerTask
from bot.core.plan import WILDCARD_DOMAINS, across_domains
from bot.core.query import TaskQuery, parse_query
from bot.errors import InvalidQuery
from tests.conftest import make_client, make_source


def add(ledger, now, host, minutes_ago, failure=None):
    path = f"https://{host}/{minutes_ago}.js"
    created = now - timedelta(minutes=minutes_ago)
    ledger.add(LedgerTask(ledger.next_id(), path, "file", created, 10, failure))


async def test_a_wildcard_merges_the_accounts_domains_under_it(emulator, clock):
    now = clock()
    for minutes, host in enumerate(["a.example.com", "b.example.com", "example.com"] * 4):
        add(emulator.ledger, now, host, minutes + 1, failure="Origin Timeout")
    add(emulator.ledger, now, "notexample.com", 1, failure="Origin Timeout")
    async with make_client(emulator, clock) as cdn:
        source = make_source(cdn, clock)
        query = parse_query("domain:*.example.com status:failed size:5 page:2", now=now)
        answer = await source.find(query)
    assert answer.domains == ("a.example.com", "b.example.com", "example.com")
    assert answer.page.total_count == 12
    # Page 2 of the newest-first merge: tasks 6 to 10 minutes old.
    ages = [round((now - t.created).total_seconds() / 60) for t in answer.page.tasks]
    assert ages == [6, 7, 8, 9, 10]
    assert all("notexample" not in t.object_path for t in answer.page.tasks)
    assert len(emulator.calls_of("DescribeUserDomains")) == 1


async def test_a_wildcard_matching_nothing_is_an_empty_answer(emulator, clock):
    async with make_client(emulator, clock) as cdn:
        answer = await make_source(cdn, clock).find(TaskQuery(domain="*.nothing.example"))
    assert answer.domains == () and answer.page.total_count == 0


def test_too_many_domains_or_too_deep_a_page_is_refused_with_a_hint():
    many = [f"d{n}.example.com" for n in range(WILDCARD_DOMAINS + 1)]
    with pytest.raises(InvalidQuery) as refused:
        across_domains(TaskQuery(domain="*.example.com"), many)
    assert "name one" in refused.value.hint and "`d0.example.com`" in refused.value.hint
    with pytest.raises(InvalidQuery) as deep:
        across_domains(TaskQuery(domain="*.example.com", page=6, size=20), many[:2])
    assert "page 5 at `size:20`" in deep.value.hint


def test_a_channel_scope_narrows_the_domains_covered():
    query = TaskQuery(domain="*.example.com", within=("a.example.com",))
    parts = across_domains(query, ["a.example.com", "b.example.com"])
    assert [part.domain for part in parts] == ["a.example.com"]
