"""The command and button handlers called directly: fakes for the task finder, the people
directory and the notifier, a real Store on disk, no HTTP (the HTTP scenarios cover the wire)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core.access import Allow, Policy
from bot.core.audit import AuditEntry
from bot.core.plan import Answer, Plan, Strategy
from bot.core.query import TaskQuery, encode_query
from bot.core.tasks import ObjectType, Status, Task, TaskPage
from bot.core.watch import PostOutcome
from bot.errors import InvalidQuery, NotAllowed
from bot.slack import actions
from bot.slack.commands import answer
from bot.slack.render import ActionId
from bot.slack.replies import Services
from bot.store.database import Store

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))


class Finder:
    """Answers every query with one task, and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[TaskQuery, bool, str]] = []

    async def __call__(self, query: TaskQuery, *, fresh: bool = False, caller: str = "") -> Answer:
        self.asked.append((query, fresh, caller))
        task = Task("7001", "https://a.example.com/x.js", ObjectType.FILE, Status.FAILED, 100, NOW)
        page = TaskPage((task,), query.page, query.size, 1, request_ids=("req-1",))
        return Answer(page, Plan(query, Strategy.DIRECT, ()), age=0)


class People:
    """Everyone in Shanghai unless told otherwise; group members as the test says."""

    def __init__(self, groups: dict[str, set[str]] | None = None) -> None:
        self.groups = groups or {}
        self.zones: dict[str, timezone] = {}
        self.lookups: list[frozenset[str]] = []

    async def timezone(self, user: str) -> timezone:
        return self.zones.get(user, SHANGHAI)

    async def groups_of(self, user: str, wanted: frozenset[str]) -> frozenset[str]:
        self.lookups.append(wanted)
        return frozenset(g for g in wanted if user in self.groups.get(g, set()))


class Notifier:
    """Every channel takes the post."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, str]] = []

    async def post(self, channel_id, reply) -> PostOutcome:
        self.posted.append((channel_id, reply.text))
        return PostOutcome(delivered=True)


@pytest.fixture
async def store(tmp_path):
    opened = await Store.open(f"sqlite:///{tmp_path / 'bot.db'}")
    yield opened
    await opened.close()


OPEN = Policy()


def services_of(store: Store, policy: Policy = OPEN, people: People | None = None) -> Services:
    return Services(
        find_tasks=Finder(),
        store=store,
        notifier=Notifier(),
        people=people or People(),
        clock=lambda: NOW,
        policy=policy,
    )


def entry(user: str = "U0ANA1234", channel: str = "C0OPS0001", detail: str = "") -> AuditEntry:
    return AuditEntry(NOW, user, channel, "command", detail)


async def test_a_query_is_read_in_the_persons_timezone_and_audited(store):
    services = services_of(store)
    noted = entry()
    reply = await answer(services, "failed since:today", entry=noted)
    ((query, fresh, caller),) = services.find_tasks.asked
    assert query.status is Status.FAILED and not fresh and caller == "U0ANA1234"
    assert query.since == datetime(2026, 11, 28, tzinfo=SHANGHAI)
    assert "7001" in str(reply.payload())
    assert noted.query == encode_query(query) and noted.results == 1
    assert noted.request_ids == ("req-1",)


async def test_help_needs_no_rights_and_looks_no_one_up(store):
    people = People()
    closed = Policy(query=Allow(groups=frozenset({"S0ONCALL1"})))
    services = services_of(store, closed, people)
    reply = await answer(services, "", entry=entry())
    assert "/cdn" in reply.text
    assert people.lookups == [] and services.find_tasks.asked == []


async def test_a_refusal_comes_before_the_finder_is_asked(store):
    people = People({"S0ONCALL1": {"U0OPS0001"}})
    policy = Policy(query=Allow(groups=frozenset({"S0ONCALL1"})), contact="#cdn-admins")
    services = services_of(store, policy, people)
    with pytest.raises(NotAllowed) as denied:
        await answer(services, "failed", entry=entry("U0ANA1234"))
    assert denied.value.contact == "#cdn-admins"
    assert services.find_tasks.asked == []
    await answer(services, "failed", entry=entry("U0OPS0001"))
    assert people.lookups == [frozenset({"S0ONCALL1"})] * 2
    assert len(services.find_tasks.asked) == 1


async def test_a_scoped_channel_queries_its_domain(store):
    services = services_of(store, Policy(scopes={"C0OPS0001": ("a.example.com",)}))
    await answer(services, "failed", entry=entry())
    ((query, _, _),) = services.find_tasks.asked
    assert query.domain == "a.example.com" and query.within == ("a.example.com",)
    with pytest.raises(NotAllowed):
        await answer(services, "domain:b.example.com", entry=entry())


async def test_subscribe_list_and_unsubscribe(store):
    services = services_of(store)
    await answer(services, "subscribe domain:a.example.com", entry=entry())
    ((channel, announcement),) = services.notifier.posted
    assert channel == "C0OPS0001" and "a.example.com" in announcement
    (subscription,) = await store.subscriptions("C0OPS0001")
    assert subscription.domain == "a.example.com" and subscription.added_by == "U0ANA1234"
    listed = await answer(services, "subscriptions", entry=entry())
    assert "a.example.com" in str(listed.payload())
    await answer(services, "unsubscribe all", entry=entry())
    assert await store.subscriptions("C0OPS0001") == []


async def test_a_scoped_channel_subscribes_within_its_scope(store):
    services = services_of(store, Policy(scopes={"C0OPS0001": ("a.example.com",)}))
    with pytest.raises(NotAllowed):
        await answer(services, "subscribe domain:b.example.com", entry=entry())
    assert services.notifier.posted == [] and await store.subscriptions("C0OPS0001") == []


async def test_the_audit_trail_is_for_admins(store):
    services = services_of(store, Policy(admin=Allow(users=frozenset({"U0ANA1234"}))))
    await services.record(entry(detail="failed"))
    trail = await answer(services, "audit", entry=entry())
    assert "failed" in str(trail.payload())
    with pytest.raises(NotAllowed):
        await answer(services, "audit", entry=entry("U0BOB1234"))


@pytest.mark.parametrize(("action_id", "fresh"), [(ActionId.NEXT, False), (ActionId.REFRESH, True)])
async def test_page_buttons_ask_for_the_page_they_carry(store, action_id, fresh):
    services = services_of(store)
    value = encode_query(TaskQuery(status=Status.FAILED, page=2))
    action = {"action_id": action_id.value, "value": value}
    await actions.page(services, action, entry=entry())
    ((query, was_fresh, _),) = services.find_tasks.asked
    assert query.page == 2 and was_fresh is fresh


async def test_share_names_who_shared(store):
    services = services_of(store)
    action = {"action_id": ActionId.SHARE.value, "value": encode_query(TaskQuery())}
    reply = await actions.share(services, action, entry=entry())
    assert "U0ANA1234" in str(reply.payload())


async def test_a_refused_button_tells_nothing_of_its_value(store):
    services = services_of(store, Policy(query=Allow(users=frozenset({"U0OPS0001"}))))
    tampered = {"action_id": ActionId.NEXT.value, "value": "not a query"}
    with pytest.raises(NotAllowed):
        await actions.page(services, tampered, entry=entry())
    with pytest.raises(InvalidQuery):
        await actions.page(services, tampered, entry=entry("U0OPS0001"))


async def test_mute_silences_the_chosen_domain(store):
    services = services_of(store)
    action = {"action_id": ActionId.MUTE.value, "selected_option": {"value": "A.example.com"}}
    await actions.mute(services, action, entry=entry())
    assert await store.muted(NOW) == {"C0OPS0001": {"a.example.com"}}
    with pytest.raises(NotAllowed):
        await actions.mute(services, action, entry=entry(channel=""))
