"""Settings fail closed: allow-lists and channel scopes that cannot mean what was meant stop the
start with the variable named, and nothing set-but-empty reads as "everyone"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import Settings, load_settings
from bot.core.tasks import ObjectType
from bot.errors import ConfigurationError

LISTS = [
    "ACCESS_QUERY_USERS",
    "ACCESS_QUERY_CHANNELS",
    "ACCESS_QUERY_GROUPS",
    "ACCESS_MANAGE_USERS",
    "ACCESS_MANAGE_GROUPS",
    "ACCESS_ADMIN_USERS",
    "ACCESS_ADMIN_GROUPS",
]


@pytest.fixture(autouse=True)
def no_access_settings(monkeypatch):
    for name in [*LISTS, "CHANNEL_DOMAINS", "AUDIT_DAYS", "CDN_FANOUT_TYPES"]:
        monkeypatch.delenv(name, raising=False)


def refusal(monkeypatch, name: str, value: str) -> ConfigurationError:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as failure:
        load_settings()
    assert failure.value.setting == name
    return failure.value


def test_unset_lists_leave_the_defaults():
    policy = load_settings().policy()
    assert policy.query.everyone and policy.manage.everyone and not policy.admin.everyone
    assert policy.scopes == {}


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("value", [",", " , ", ",,,", " ,\t, "])
def test_a_list_set_to_nothing_but_commas_stops_the_start(monkeypatch, name, value):
    # Meant to narrow access, it would otherwise open it to everyone.
    assert "names no one" in refusal(monkeypatch, name, value).problem


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_value_is_the_same_as_unset(monkeypatch, value):
    monkeypatch.setenv("ACCESS_QUERY_USERS", value)
    assert load_settings().policy().query.everyone


def test_empty_items_are_ignored(monkeypatch):
    monkeypatch.setenv("ACCESS_QUERY_USERS", " , U0ANA1234, ,W0GRID123,")
    monkeypatch.setenv("ACCESS_QUERY_CHANNELS", "C0OPS0001,,G0PRIVATE1, D0DIRECT1")
    monkeypatch.setenv("ACCESS_MANAGE_GROUPS", "S0ONCALL1 ,")
    policy = load_settings().policy()
    assert policy.query.users == {"U0ANA1234", "W0GRID123"}
    assert policy.query.channels == {"C0OPS0001", "G0PRIVATE1", "D0DIRECT1"}
    assert policy.manage.groups == {"S0ONCALL1"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ACCESS_QUERY_USERS", "ana"),
        ("ACCESS_QUERY_USERS", "@ana"),
        ("ACCESS_QUERY_USERS", "u0ana1234"),  # Slack IDs are upper case: this never matches
        ("ACCESS_QUERY_USERS", "U0ANA1234 U0BOB1234"),  # a space instead of a comma
        ("ACCESS_QUERY_USERS", "S0ONCALL1"),  # a group in the users list
        ("ACCESS_QUERY_CHANNELS", "#ops"),
        ("ACCESS_QUERY_CHANNELS", "U0ANA1234"),
        ("ACCESS_QUERY_GROUPS", "oncall"),
        ("ACCESS_QUERY_GROUPS", "C0OPS0001"),
        ("ACCESS_MANAGE_USERS", "*"),
        ("ACCESS_MANAGE_GROUPS", "U0ANA1234"),
        ("ACCESS_ADMIN_USERS", "admin"),
        ("ACCESS_ADMIN_GROUPS", "S0-ADMINS"),
    ],
)
def test_ids_that_are_not_slack_ids_stop_the_start(monkeypatch, name, value):
    problem = refusal(monkeypatch, name, value).problem
    assert repr(value.split()[0]) in problem or repr(value) in problem
    assert "look like" in problem


@pytest.mark.parametrize(
    "value",
    [
        "general=a.example.com",  # a channel name, not its ID
        "#ops=a.example.com",
        "c0ops0001=a.example.com",
        "U0ANA1234=a.example.com",
        "S0ONCALL1=a.example.com",
        "=a.example.com",
        "C0OPS0001",
        "C0OPS0001=",
        "C0OPS0001= , ",
        "C0OPS0001=a.example.com;C0OPS0001=b.example.com",  # which one was meant?
        ";",
        " ; ; ",
    ],
)
def test_channel_domains_must_name_channels_by_id(monkeypatch, value):
    refusal(monkeypatch, "CHANNEL_DOMAINS", value)


def test_channel_domains_of_channels_private_channels_and_dms(monkeypatch):
    monkeypatch.setenv(
        "CHANNEL_DOMAINS",
        " C0OPS0001=a.example.com, *.b.example.com ; G0PRIV001=c.example.com;"
        "D0DIRECT1=d.example.com",
    )
    assert load_settings().policy().scopes == {
        "C0OPS0001": ("a.example.com", "*.b.example.com"),
        "G0PRIV001": ("c.example.com",),
        "D0DIRECT1": ("d.example.com",),
    }


def test_audit_days(monkeypatch):
    assert Settings().audit_days == 90
    assert load_settings().policy().audit_kept == timedelta(days=90)
    monkeypatch.setenv("AUDIT_DAYS", "7")
    assert load_settings().policy().audit_kept == timedelta(days=7)
    for bad in ("0", "-1", "forever"):
        refusal(monkeypatch, "AUDIT_DAYS", bad)


def test_lists_arrive_typed(monkeypatch):
    monkeypatch.setenv("ACCESS_ADMIN_USERS", "U0ANA1234, W0GRID123")
    monkeypatch.setenv("CHANNEL_DOMAINS", "C0OPS0001=a.example.com")
    monkeypatch.setenv("CDN_FANOUT_TYPES", " Regex,file ")
    settings = load_settings()
    assert settings.access_admin_users == frozenset({"U0ANA1234", "W0GRID123"})
    assert settings.access_query_users == frozenset()
    assert settings.channel_domains == {"C0OPS0001": ("a.example.com",)}
    assert settings.cdn_fanout_types == (ObjectType.REGEX, ObjectType.FILE)


def test_fan_out_types_default_to_the_seeds_three():
    assert Settings().cdn_fanout_types == (
        ObjectType.FILE,
        ObjectType.DIRECTORY,
        ObjectType.PRELOAD,
    )


@pytest.mark.parametrize("value", ["file,tarball", "file,,directory", ""])
def test_unknown_fan_out_types_stop_the_start(monkeypatch, value):
    refusal(monkeypatch, "CDN_FANOUT_TYPES", value)


def test_lists_are_never_read_as_json(monkeypatch):
    # A JSON list is not how these are written: it is refused, not half understood.
    assert "look like" in refusal(monkeypatch, "ACCESS_QUERY_USERS", '["U0ANA1234"]').problem


def test_values_given_in_code_are_held_to_the_same_rules():
    with pytest.raises(ConfigurationError) as failure:
        Settings(access_manage_users=frozenset({"ana"}))
    assert failure.value.setting == "ACCESS_MANAGE_USERS"
    with pytest.raises(ConfigurationError) as failure:
        Settings(channel_domains={"general": ("a.example.com",)})
    assert failure.value.setting == "CHANNEL_DOMAINS"
    scoped = Settings(channel_domains={"C0OPS0001": ["a.example.com", "*.b.example.com"]})
    assert scoped.policy().scopes == {"C0OPS0001": ("a.example.com", "*.b.example.com")}
