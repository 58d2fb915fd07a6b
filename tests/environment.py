"""The operator's environment kept away from tests and the processes they start.

Which names count is read from the settings model itself, so a setting added tomorrow is kept
out too: pydantic-settings matches names case-insensitively, and so does this.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from pydantic import AliasChoices

from bot.config import Settings

# Whole families the bot or the cloud SDKs may read, whether or not a field names them yet.
PREFIXES = ("SLACK_", "ALIBABA_CLOUD_", "CDN_")


def _names() -> frozenset[str]:
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        names.add(name)
        aliases = field.validation_alias
        if isinstance(aliases, str):
            names.add(aliases)
        elif isinstance(aliases, AliasChoices):
            names.update(a for a in aliases.choices if isinstance(a, str))
    prefix = str(Settings.model_config.get("env_prefix") or "")
    return frozenset(f"{prefix}{name}".upper() for name in names)


SETTINGS = _names()


def is_setting(name: str) -> bool:
    """Whether the bot would read the variable `name` (in any case) as a setting."""
    upper = name.upper()
    return upper in SETTINGS or upper.startswith(PREFIXES)


def settings_in(environ: Mapping[str, str]) -> Iterator[str]:
    """The names in `environ` that the bot would read as settings."""
    return (name for name in environ if is_setting(name))


def clean_environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any setting, plus `extra`: the environment for a
    `python -m bot` the test (or benchmark) starts."""
    kept = {name: value for name, value in os.environ.items() if not is_setting(name)}
    return {**kept, **(extra or {})}
