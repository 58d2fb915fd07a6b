"""The bot's configuration: one settings class read from the standard environment names."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.access import Allow, Policy
from bot.core.filters import wildcard_domain
from bot.core.tasks import ObjectType
from bot.errors import ConfigurationError, InvalidQuery

DEFAULT_CDN_ENDPOINT = "https://cdn.aliyuncs.com"


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
    # The types a `domain:`/`status:` query without `type:` covers (the API needs one per call).
    cdn_fanout_types: str = "file,directory,preload"
    cache_ttl: float = Field(default=15.0, ge=0)
    cache_size: int = Field(default=1024, ge=1)

    @field_validator("cdn_fanout_types")
    @classmethod
    def _known_types(cls, value: str) -> str:
        for name in value.split(","):
            ObjectType(name.strip())  # raises ValueError naming an unknown type
        return value

    @property
    def fan_out(self) -> tuple[ObjectType, ...]:
        """CDN_FANOUT_TYPES as ObjectTypes, in the order given."""
        return tuple(ObjectType(name.strip()) for name in self.cdn_fanout_types.split(","))

    # Access control: comma-separated Slack IDs; an unset (or empty) query/manage list lets
    # everyone in. Empty items are skipped, but a list set to nothing else stops the start.
    access_query_users: str = ""
    access_query_channels: str = ""
    access_query_groups: str = ""
    access_manage_users: str = ""
    access_manage_groups: str = ""
    access_admin_users: str = ""
    access_admin_groups: str = ""
    access_contact: str = "the bot's operator"
    # Channels limited to some domains: "C0123=a.example.com,*.b.example.com;C0456=c.example.com"
    channel_domains: str = ""
    # How long the audit trail keeps an entry, whatever the number of entries.
    audit_days: int = Field(default=90, ge=1, le=36500)

    def policy(self) -> Policy:
        """The access policy these settings describe; a ConfigurationError names a bad list."""
        return Policy(
            query=Allow(
                _ids(self.access_query_users, "ACCESS_QUERY_USERS", _USER),
                _ids(self.access_query_channels, "ACCESS_QUERY_CHANNELS", _CHANNEL),
                _ids(self.access_query_groups, "ACCESS_QUERY_GROUPS", _GROUP),
            ),
            manage=Allow(
                _ids(self.access_manage_users, "ACCESS_MANAGE_USERS", _USER),
                groups=_ids(self.access_manage_groups, "ACCESS_MANAGE_GROUPS", _GROUP),
            ),
            admin=Allow(
                _ids(self.access_admin_users, "ACCESS_ADMIN_USERS", _USER),
                groups=_ids(self.access_admin_groups, "ACCESS_ADMIN_GROUPS", _GROUP),
                closed=True,
            ),
            contact=self.access_contact,
            scopes=_scopes(self.channel_domains),
            audit_kept=timedelta(days=self.audit_days),
        )

    port: int = Field(default=3000, ge=0, le=65535)
    host: str = "0.0.0.0"  # a web process must be reachable by its router
    # The local playground (no Slack configured) is for this machine only.
    playground_host: str = "127.0.0.1"
    # Serving it beyond this machine (a non-loopback PLAYGROUND_HOST) must be asked for.
    playground_public: bool = False
    database_url: str = "sqlite:///cdn-task-bot.db"
    watch_interval: float = Field(default=60.0, gt=0)
    # How far before its mark each watcher cycle looks again: a task created before the mark
    # may fail after it. Longer than any task takes to fail.
    watch_overlap: float = Field(default=3600.0, ge=0)
    log_level: str = "INFO"


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


def _ids(text: str, setting: str, kind: _IdKind) -> frozenset[str]:
    """The IDs of a comma-separated list; empty items are skipped, but a list that was set and
    names no one stops the start: read as "everyone" it would open what it meant to close."""
    pattern, looks = kind
    ids = frozenset(part.strip() for part in text.split(",") if part.strip())
    if text.strip() and not ids:
        raise ConfigurationError(
            setting, "is set but names no one: list Slack IDs, or unset it to let everyone in"
        )
    bad = sorted(i for i in ids if not pattern.fullmatch(i))
    if bad:
        raise ConfigurationError(setting, f"has {bad[0]!r}: {looks}, separated by commas")
    return ids


def _scopes(text: str) -> dict[str, tuple[str, ...]]:
    scopes: dict[str, tuple[str, ...]] = {}
    for entry in (part.strip() for part in text.split(";")):
        if not entry:
            continue
        channel, sep, domains = (part.strip() for part in entry.partition("="))
        try:
            patterns = tuple(wildcard_domain(d) for d in domains.split(",") if d.strip())
        except InvalidQuery as exc:
            raise ConfigurationError("CHANNEL_DOMAINS", f"{exc.value!r}: {exc.hint}") from None
        if not sep or not channel or not patterns:
            raise ConfigurationError(
                "CHANNEL_DOMAINS", f"{entry!r} is not like C0123=a.example.com,*.b.example.com"
            )
        # A channel name would never match, leaving that channel unlimited.
        if not _CHANNEL[0].fullmatch(channel):
            raise ConfigurationError("CHANNEL_DOMAINS", f"has {channel!r}: {_CHANNEL[1]}")
        if channel in scopes:
            raise ConfigurationError(
                "CHANNEL_DOMAINS", f"names {channel} twice: list all its domains in one entry"
            )
        scopes[channel] = patterns
    if text.strip() and not scopes:
        raise ConfigurationError("CHANNEL_DOMAINS", "is set but limits no channel")
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
    settings.policy()  # a malformed list or CHANNEL_DOMAINS fails now, not at a command
    return settings
