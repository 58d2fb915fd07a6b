"""Where the cloud credentials come from: the environment, else the Alibaba Cloud CLI profile."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import ConfigurationError


@dataclass(frozen=True)
class Credentials:
    """An AccessKey pair, with the STS token when the key is temporary."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)


def resolve_credentials(
    key_id: str | None,
    secret: str | None,
    *,
    security_token: str | None = None,
    profile: str | None = None,
    config_file: Path,
) -> Credentials | None:
    """The environment's key (`key_id`, `secret`) if set, else the CLI profile's (the `profile`
    named, or the file's current one); None when neither has one."""
    if key_id or secret:
        if not (key_id and secret):
            missing = "SECRET" if key_id else "ID"
            raise ConfigurationError(
                f"ALIBABA_CLOUD_ACCESS_KEY_{missing}",
                "is missing: set both the AccessKey ID and its secret, or neither",
            )
        return Credentials(key_id, secret, security_token or None)
    return _from_cli_profile(config_file, profile)


def _from_cli_profile(path: Path, wanted: str | None) -> Credentials | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if wanted:
            raise ConfigurationError("ALIBABA_CLOUD_PROFILE", f"{path} does not exist") from None
        return None
    except (OSError, ValueError) as exc:
        raise ConfigurationError(str(path), "cannot be read as JSON") from exc
    if not isinstance(document, dict):
        raise ConfigurationError(str(path), "is not a CLI configuration object")
    name = wanted or document.get("current") or "default"
    profiles = [p for p in document.get("profiles") or [] if isinstance(p, dict)]
    profile = next((p for p in profiles if p.get("name") == name), None)
    if profile is None:
        if wanted:
            raise ConfigurationError("ALIBABA_CLOUD_PROFILE", f"no profile named {name!r}")
        return None
    mode = profile.get("mode", "AK")
    key_id = profile.get("access_key_id") or ""
    secret = profile.get("access_key_secret") or ""
    if mode not in ("AK", "StsToken"):
        raise ConfigurationError(
            str(path), f"profile {name!r} uses mode {mode!r}; only AK and StsToken are supported"
        )
    if not (key_id and secret):
        raise ConfigurationError(str(path), f"profile {name!r} has no AccessKey pair")
    token = profile.get("sts_token") or None if mode == "StsToken" else None
    if mode == "StsToken" and not token:
        raise ConfigurationError(str(path), f"profile {name!r} is StsToken but has no sts_token")
    return Credentials(key_id, secret, token)
