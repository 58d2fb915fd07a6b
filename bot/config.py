"""The bot's configuration: one settings class read from the standard environment names.
Comma lists and channel scopes arrive typed, or stop the start with the variable named."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.access import Allow, Policy
from bot.core.filters import wildcard_domain
from bot.core.plan import DEFAULT_FAN_OUT
from bot.core.tasks import ObjectType
from bot.errors import ConfigurationError, InvalidQuery

DEFAULT_CDN_ENDPOINT = "https://cdn.aliyuncs.com"

# Read from the environment as comma lists, not JSON: the validators below parse them.
SlackIds = Annotated[frozenset[str], NoDecode]
Scopes = Annotated[dict[str, tuple[str, ...]], NoDecode]


class Settings(BaseSettings):
    """Everything an operator can set; secrets are SecretStr so they never print."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    alibaba_cloud_access_key_id: str | None = None
    alibaba_cloud_access_key_secret: SecretStr | None = None
    alibaba_cloud_security_token: SecretStr | None = None
    # The Alibaba Cloud CLI's profile file, used when no key is in the environment.
    alibaba_cloud_profile: str | None = None
    alibaba_cloud_config_file: Path = Field(
        default_factory=lambda: Path.home() / ".aliyun" / "config.json"
    )

    cdn_endpoint: str = DEFAULT_CDN_ENDPOINT
    cdn_signature_version: Literal["v3", "v1"] = "v3"
    # Calls per second for DescribeRefreshTasks (the seed says 10; newer docs say 5).
    cdn_qps: float = Field(default=10.0, gt=0)
    cdn_connect_timeout: float = Field(default=5.0, gt=0)
    cdn_read_timeout: float = Field(default=10.0, gt=0)
    cdn_max_retries: int = Field(default=3, ge=0, le=10)
    # The types a `domain:`/`status:` query without `type:` covers (the API needs one per call),
    # in the order given: "file,directory,preload".
    cdn_fanout_types: Annotated[tuple[ObjectType, ...], NoDecode] = DEFAULT_FAN_OUT
    cache_ttl: float = Field(default=15.0, ge=0)
    cache_size: int = Field(default=1024, ge=1)

    # Access control: comma-separated Slack IDs; an unset (or empty) query/manage list lets
    # everyone in. Empty items are skipped, but a list set to nothing else stops the start.
    access_query_users: SlackIds = frozenset()
    access_query_channels: SlackIds = frozenset()
    access_query_groups: SlackIds = frozenset()
    access_manage_users: SlackIds = frozenset()
    access_manage_groups: SlackIds = frozenset()
    access_admin_users: SlackIds = frozenset()
    access_admin_groups: SlackIds = frozenset()
    access_contact: str = "the bot's operator"
    # Channels limited to some domains: "C0123=a.example.com,*.b.example.com;C0456=c.example.com"
    channel_domains: Scopes = Field(default_factory=dict)
    # How long the audit trail keeps an entry, whatever the number of entries.
    audit_days: int = Field(default=90, ge=1, le=36500)

    port: int = Field(default=3000, ge=0, le=65535)
    host: str = "0.0.0.0"  # a web process must be reachable by its router
    # The local playground (no Slack configured) is for this machine only.
    playground_host: str = "127.0.0.1"
    # Serving it beyond this machine (a non-loopback PLAYGROUND_HOST) must be asked for.
    playground_public: bool = False
    # sqlite:///file.db (one host) or postgresql://user@host:port/db (any number of replicas).
    database_url: str = "sqlite:///cdn-task-bot.db"
    # Unset: the limiter and the read cache live in this process. Set (redis:// or rediss://):
    # every replica shares them, so together they keep to the account's rates.
    redis_url: SecretStr | None = None
    redis_key_prefix: str = Field(default="cdnbot", pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    # How many replicas share the account: with Redis unreachable, each keeps 1/N of every rate.
    shared_replicas: int = Field(default=3, ge=1, le=100)
    watch_interval: float = Field(default=60.0, gt=0)
    # How far before its mark each watcher cycle looks again: a task created before the mark
    # may fail after it. Longer than any task takes to fail.
    watch_overlap: float = Field(default=3600.0, ge=0)
    # Days of tasks the bot keeps in its own history (the API forgets them after three).
    history_days: int = Field(default=30, ge=3, le=3650)
    # Seconds a task may stay Pending or Refreshing before subscribed channels hear it is stuck.
    stuck_after: float = Field(default=1800.0, ge=60)
    # Seconds the background lease lasts: a dead leader's work moves to another replica
    # between two thirds and 1.4 times this later (bot.leader says why).
    leader_lease: float = Field(default=15.0, ge=1, le=600)
    log_level: str = "INFO"

    @field_validator("cdn_fanout_types", mode="before")
    @classmethod
    def _task_types(cls, value: object) -> object:
        if isinstance(value, str):
            # ObjectType's ValueError names an unknown type; load_settings names the variable.
            return tuple(ObjectType(name.strip()) for name in value.split(","))
        return value

    @field_validator(
        "access_query_users", "access_manage_users", "access_admin_users", mode="before"
    )
    @classmethod
    def _user_ids(cls, value: object, info: ValidationInfo) -> object:
        return _ids(value, _variable(info), _USER)

    @field_validator("access_query_channels", mode="before")
    @classmethod
    def _channel_ids(cls, value: object, info: ValidationInfo) -> object:
        return _ids(value, _variable(info), _CHANNEL)

    @field_validator(
        "access_query_groups", "access_manage_groups", "access_admin_groups", mode="before"
    )
    @classmethod
    def _group_ids(cls, value: object, info: ValidationInfo) -> object:
        return _ids(value, _variable(info), _GROUP)

    @field_validator("channel_domains", mode="before")
    @classmethod
    def _channel_scopes(cls, value: object, info: ValidationInfo) -> object:
        return _scopes(value, _variable(info))

    def policy(self) -> Policy:
        """The access policy these settings describe."""
        return Policy(
            query=Allow(
                self.access_query_users, self.access_query_channels, self.access_query_groups
            ),
            manage=Allow(self.access_manage_users, groups=self.access_manage_groups),
            admin=Allow(self.access_admin_users, groups=self.access_admin_groups, closed=True),
            contact=self.access_contact,
            scopes=self.channel_domains,
            audit_kept=timedelta(days=self.audit_days),
        )


def _variable(info: ValidationInfo) -> str:
    """The environment variable a field is read from."""
    return (info.field_name or "settings").upper()


# What Slack IDs look like, and how to say so. An ID that cannot match anyone (a name, a
# lower-case ID, a group among users) would silently lock people out or in: refuse it.
_IdKind = tuple[re.Pattern[str], str]
_USER: _IdKind = (
    re.compile(r"[UW][A-Z0-9]+"),
    "Slack user IDs look like U0123ABCD (W… in Enterprise Grid)",
)
_CHANNEL: _IdKind = (
    re.compile(r"[CGD][A-Z0-9]+"),
    "Slack channel IDs look like C0123ABCD (G… private, D… direct messages)",
)
_GROUP: _IdKind = (re.compile(r"S[A-Z0-9]+"), "Slack user group IDs look like S0123ABCD")


def _ids(value: object, setting: str, kind: _IdKind) -> object:
    """The IDs of a comma-separated list; empty items are skipped, but a list that was set and
    names no one stops the start: read as "everyone" it would open what it meant to close."""
    if isinstance(value, str):
        ids = frozenset(part.strip() for part in value.split(",") if part.strip())
        if value.strip() and not ids:
            raise ConfigurationError(
                setting, "is set but names no one: list Slack IDs, or unset it to let everyone in"
            )
    elif isinstance(value, set | frozenset | list | tuple) and all(
        isinstance(i, str) for i in value
    ):
        ids = frozenset(value)
    else:
        return value  # not a list of IDs at all: the field's own type check says so
    pattern, looks = kind
    bad = sorted(i for i in ids if not pattern.fullmatch(i))
    if bad:
        raise ConfigurationError(setting, f"has {bad[0]!r}: {looks}, separated by commas")
    return ids


def _scopes(value: object, setting: str) -> object:
    """CHANNEL_DOMAINS as {channel ID: domain patterns}; anything that could leave a channel
    unlimited by mistake (a name for an ID, an empty entry, a channel twice) stops the start."""
    if isinstance(value, str):
        entries = [entry.strip() for entry in value.split(";") if entry.strip()]
        if value.strip() and not entries:
            raise ConfigurationError(setting, "is set but limits no channel")
    elif isinstance(value, Mapping):
        entries = [
            f"{channel}={domains if isinstance(domains, str) else ','.join(domains)}"
            for channel, domains in value.items()
        ]
    else:
        return value
    scopes: dict[str, tuple[str, ...]] = {}
    for entry in entries:
        channel, sep, domains = (part.strip() for part in entry.partition("="))
        try:
            patterns = tuple(wildcard_domain(d) for d in domains.split(",") if d.strip())
        except InvalidQuery as exc:
            raise ConfigurationError(setting, f"{exc.value!r}: {exc.hint}") from None
        if not sep or not channel or not patterns:
            raise ConfigurationError(
                setting, f"{entry!r} is not like C0123=a.example.com,*.b.example.com"
            )
        # A channel name would never match, leaving that channel unlimited.
        if not _CHANNEL[0].fullmatch(channel):
            raise ConfigurationError(setting, f"has {channel!r}: {_CHANNEL[1]}")
        if channel in scopes:
            raise ConfigurationError(
                setting, f"names {channel} twice: list all its domains in one entry"
            )
        scopes[channel] = patterns
    return scopes


SlackMode = Literal["socket", "http"]


def slack_mode(settings: Settings) -> SlackMode | None:
    """How to reach Slack (None: not configured); a half setup says what is missing."""
    bot, secret, app = (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
    )
    if not (bot or secret or app):
        return None
    if bot is None:
        raise ConfigurationError(
            "SLACK_BOT_TOKEN", "is missing: copy the xoxb- token from OAuth & Permissions"
        )
    if not bot.get_secret_value().startswith("xoxb-"):
        raise ConfigurationError("SLACK_BOT_TOKEN", "must be a bot token starting with xoxb-")
    if app is not None:
        if not app.get_secret_value().startswith("xapp-"):
            raise ConfigurationError(
                "SLACK_APP_TOKEN", "must be an app-level token starting with xapp-"
            )
        return "socket"
    if secret is None:
        raise ConfigurationError(
            "SLACK_SIGNING_SECRET",
            "is missing: HTTP mode needs the signing secret from Basic Information "
            "(or set SLACK_APP_TOKEN for Socket Mode)",
        )
    return "http"


def load_settings() -> Settings:
    """Settings from the environment; a bad value is a ConfigurationError naming the variable."""
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise ConfigurationError(name, first["msg"].lower()) from None
    return settings
