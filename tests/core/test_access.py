"""The access policy: allow-lists, admins, and channel domain scopes, as plain values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.access import NEEDS, Act, Allow, Mute, Policy, Request, needs
from bot.core.query import TaskQuery, parse_query
from bot.core.tasks import ObjectType, Status, Task
from bot.core.watch import Router, Subscription
from bot.errors import NotAllowed

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
NONE = frozenset()


@pytest.mark.parametrize(
    ("allow", "user", "channel", "groups", "admitted"),
    [
        (Allow(), "U1", "C1", NONE, True),
        (Allow(closed=True), "U1", "C1", NONE, False),
        (Allow(users=frozenset({"U1"})), "U1", "C9", NONE, True),
        (Allow(users=frozenset({"U1"})), "U2", "C9", NONE, False),
        (Allow(channels=frozenset({"C1"})), "U2", "C1", NONE, True),
        (Allow(groups=frozenset({"S1"})), "U2", "C9", frozenset({"S1"}), True),
        (Allow(groups=frozenset({"S1"})), "U2", "C9", frozenset({"S2"}), False),
    ],
)
def test_allow_lists(allow, user, channel, groups, admitted):
    assert allow.admits(user, channel, groups) is admitted


def test_default_policy_is_open_except_for_the_audit_trail():
    policy = Policy(contact="#cdn-admins")
    policy.check(Act.QUERY, user="U1", channel="C1", user_groups=NONE)
    policy.check(Act.MANAGE, user="U1", channel="C1", user_groups=NONE)
    with pytest.raises(NotAllowed) as denied:
        policy.check(Act.AUDIT, user="U1", channel="C1", user_groups=NONE)
    assert denied.value.what == "read the audit trail" and denied.value.contact == "#cdn-admins"


SCOPED = Policy(scopes={"C1": ("a.example.com",), "C2": ("a.example.com", "*.b.example.com")})


@pytest.mark.parametrize(
    ("channel", "text", "domain", "denied"),
    [
        ("C9", "failed", None, None),  # an unscoped channel is untouched
        ("C1", "failed", "a.example.com", None),  # one exact domain is implied
        ("C1", "www.other.com", None, "see tasks of www.other.com"),
        ("C1", "url:https://evil.com/x.js", None, "see tasks of evil.com"),
        ("C2", "failed", None, "query every domain"),  # several: say which to add
        ("C2", "domain:x.b.example.com", "x.b.example.com", None),
        ("C2", "task 123", None, None),  # looked up, then kept within the scope
    ],
)
def test_scoped_queries(channel, text, domain, denied):
    query = parse_query(text, now=NOW)
    if denied:
        with pytest.raises(NotAllowed) as refusal:
            SCOPED.scoped(query, channel)
        assert refusal.value.what == denied and "This channel sees" in refusal.value.detail
        return
    scoped = SCOPED.scoped(query, channel)
    assert scoped.domain == domain
    assert scoped.within == SCOPED.scope(channel)
    if channel == "C9":
        assert scoped == query


@pytest.mark.parametrize(
    ("channel", "domain", "allowed"),
    [
        ("C9", None, True),
        ("C1", None, False),
        ("C1", "a.example.com", True),
        ("C1", "*.a.example.com", False),
        ("C2", "*.b.example.com", True),
        ("C2", "*.x.b.example.com", True),
        ("C2", "b.example.com", True),
        ("C2", "*.example.com", False),
    ],
)
def test_subscriptions_stay_within_the_scope(channel, domain, allowed):
    if allowed:
        SCOPED.may_watch(channel, domain)
    else:
        with pytest.raises(NotAllowed):
            SCOPED.may_watch(channel, domain)


def test_notifications_never_leave_a_channels_scope():
    tasks = [
        Task(task_id=str(n), object_path=f"https://{host}/x", object_type=ObjectType.FILE,
             status=Status.FAILED, progress=0, created=NOW)
        for n, host in enumerate(["a.example.com", "www.other.com"])
    ]  # fmt: skip
    subscriptions = [Subscription(c, None, None, "U1", NOW) for c in ("C1", "C9")]
    routed = Router(subscriptions, SCOPED.scopes).route(tasks)
    assert [t.domain for t in routed["C1"]] == ["a.example.com"]
    assert len(routed["C9"]) == 2


def test_the_scope_is_not_carried_in_button_values():
    from bot.core.query import decode_query, encode_query

    scoped = SCOPED.scoped(TaskQuery(), "C1")
    assert decode_query(encode_query(scoped), now=NOW).within == ()


@pytest.mark.parametrize(
    ("request_", "acts"),
    [
        (parse_query("help", now=NOW), ()),
        (parse_query("failed", now=NOW), (Act.QUERY,)),
        (parse_query("subscriptions", now=NOW), (Act.QUERY,)),
        (parse_query("subscribe", now=NOW), (Act.QUERY, Act.MANAGE)),
        (parse_query("unsubscribe all", now=NOW), (Act.QUERY, Act.MANAGE)),
        (Mute("a.example.com"), (Act.QUERY, Act.MANAGE)),
        (parse_query("audit", now=NOW), (Act.AUDIT,)),
        (parse_query("refresh https://a.example.com/x.js", now=NOW), (Act.QUERY, Act.SUBMIT)),
        (parse_query("prefetch", now=NOW), (Act.QUERY, Act.SUBMIT)),
    ],
)
def test_what_each_request_needs(request_, acts):
    assert needs(request_) == acts


def test_submitting_is_for_the_manage_list():
    policy = Policy(manage=Allow(users=frozenset({"U1"})), contact="#cdn-admins")
    policy.check(Act.SUBMIT, user="U1", channel="C1", user_groups=NONE)
    with pytest.raises(NotAllowed) as denied:
        policy.check(Act.SUBMIT, user="U2", channel="C1", user_groups=NONE)
    assert denied.value.what == "refresh or prefetch CDN content"


@pytest.mark.parametrize(
    ("scopes", "domains", "refused"),
    [
        ({}, ["a.example.com", "b.example.org"], None),
        ({"C1": ("*.example.com",)}, ["a.example.com", "example.com"], None),
        ({"C1": ("www.example.com",)}, ["www.example.com", "img.example.com"], "img.example.com"),
        ({"C1": ("a.com", "b.com")}, ["c.com", "a.com", "b.org"], "b.org, c.com"),
        ({"C2": ("a.com",)}, ["z.com"], None),  # another channel's scope
    ],
)
def test_a_scoped_channel_submits_only_within_its_domains(scopes, domains, refused):
    policy = Policy(scopes=scopes, contact="#cdn-admins")
    refusal = policy.submission_refusal("C1", domains)
    if refused is None:
        assert refusal is None
        policy.may_submit("C1", domains)
        return
    assert refusal is not None and refusal.what == f"refresh or prefetch {refused}"
    listed = ", ".join(f"`{p}`" for p in scopes["C1"])
    assert refusal.detail == f"This channel may refresh or prefetch {listed} only."
    with pytest.raises(NotAllowed):
        policy.may_submit("C1", domains)


def test_a_submission_needs_a_channel():
    assert Policy().submission_refusal(" ", ["a.example.com"]) is not None


@pytest.mark.parametrize("kind", list(NEEDS))
def test_a_kind_of_request_needs_what_each_of_its_kind_needs(kind):
    # Buttons are checked by kind, before their value is read.
    assert needs(kind) == NEEDS[kind]


def test_every_request_is_in_the_table():
    import typing

    assert set(typing.get_args(Request)) == set(NEEDS)


def test_managing_needs_query_rights_too():
    # Only queries are listed: a subscription would otherwise deliver task data to anyone.
    policy = Policy(query=Allow(users=frozenset({"U1"})), contact="#cdn-admins")
    subscribe = parse_query("subscribe", now=NOW)

    def require(request_, user, channel):
        for act in needs(request_):
            policy.check(act, user=user, channel=channel, user_groups=NONE)

    require(subscribe, "U1", "D1")
    for request_ in (subscribe, Mute("a.example.com"), parse_query("unsubscribe all", now=NOW)):
        with pytest.raises(NotAllowed) as denied:
            require(request_, "U2", "D2")
        assert denied.value.what == Act.QUERY.value and denied.value.contact == "#cdn-admins"


@pytest.mark.parametrize("act", list(Act))
@pytest.mark.parametrize("channel", ["", "  "])
def test_a_request_from_no_channel_is_refused(act, channel):
    # Every rule (channel lists, scopes, subscriptions) hangs on the channel: none means none.
    with pytest.raises(NotAllowed) as denied:
        Policy(admin=Allow()).check(act, user="U1", channel=channel, user_groups=NONE)
    assert "names no channel" in denied.value.detail


def test_no_channel_is_never_an_unscoped_channel():
    with pytest.raises(NotAllowed):
        SCOPED.scoped(parse_query("failed", now=NOW), "")
    with pytest.raises(NotAllowed):
        SCOPED.may_watch(" ", None)


@pytest.mark.parametrize(
    ("allow", "user", "groups", "admitted"),
    [
        (Allow(), "U1", NONE, True),
        (Allow(users=frozenset({"U1"})), "U1", NONE, True),
        (Allow(groups=frozenset({"S1"})), "U2", frozenset({"S1"}), True),
        (Allow(channels=frozenset({"C1"})), "U1", NONE, False),  # no channel to admit them
        (Allow(closed=True), "U1", NONE, False),
    ],
)
def test_a_request_from_no_channel_passes_only_by_name_or_group(allow, user, groups, admitted):
    policy = Policy(manage=allow, contact="#cdn-admins")
    if admitted:
        policy.check_person(Act.SUBMIT, user=user, user_groups=groups)
    else:
        with pytest.raises(NotAllowed) as denied:
            policy.check_person(Act.SUBMIT, user=user, user_groups=groups)
        assert "Without a channel" in denied.value.detail


@pytest.mark.parametrize(
    ("allow", "somewhere"),
    [
        (Allow(), True),
        (Allow(users=frozenset({"U1"})), True),
        (Allow(users=frozenset({"U2"})), False),
        (Allow(channels=frozenset({"C1"})), True),  # judged in full once a channel is picked
        (Allow(closed=True), False),
    ],
)
def test_may_somewhere_before_a_form_that_picks_its_channel(allow, somewhere):
    policy = Policy(manage=allow)
    assert policy.may_somewhere(Act.SUBMIT, user="U1", user_groups=NONE) is somewhere


def test_allows_is_check_without_raising():
    policy = Policy(query=Allow(channels=frozenset({"C1"})))
    assert policy.allows(Act.QUERY, user="U1", channel="C1", user_groups=NONE)
    assert not policy.allows(Act.QUERY, user="U1", channel="C2", user_groups=NONE)
    assert not Policy().allows(Act.QUERY, user="U1", channel=" ", user_groups=NONE)
