"""Credentials from the environment or the Alibaba Cloud CLI profile file."""

from __future__ import annotations

import json

import pytest

from bot.cdn.credentials import Credentials, resolve_credentials
from bot.config import Settings
from bot.errors import ConfigurationError


def settings(tmp_path, **values):
    return Settings(alibaba_cloud_config_file=tmp_path / "config.json", **values)


def write_profiles(tmp_path, current, *profiles):
    (tmp_path / "config.json").write_text(
        json.dumps({"current": current, "profiles": list(profiles)})
    )


def test_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret")
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", "env-token")
    write_profiles(
        tmp_path,
        "default",
        {"name": "default", "mode": "AK", "access_key_id": "f", "access_key_secret": "s"},
    )
    found = resolve_credentials(Settings(alibaba_cloud_config_file=tmp_path / "config.json"))
    assert found == Credentials("env-id", "env-secret", "env-token")
    assert "env-secret" not in repr(found) and "env-token" not in repr(found)


def test_half_a_key_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError) as failure:
        resolve_credentials(settings(tmp_path, alibaba_cloud_access_key_id="only-id"))
    assert failure.value.setting == "ALIBABA_CLOUD_ACCESS_KEY_SECRET"


def test_no_credentials_anywhere_means_none(tmp_path):
    assert resolve_credentials(settings(tmp_path)) is None


def test_cli_profiles_ak_and_sts(tmp_path):
    write_profiles(
        tmp_path,
        "work",
        {"name": "default", "mode": "AK", "access_key_id": "d-id", "access_key_secret": "d-s"},
        {
            "name": "work",
            "mode": "StsToken",
            "access_key_id": "w-id",
            "access_key_secret": "w-s",
            "sts_token": "w-t",
        },
    )
    assert resolve_credentials(settings(tmp_path)) == Credentials("w-id", "w-s", "w-t")
    chosen = resolve_credentials(settings(tmp_path, alibaba_cloud_profile="default"))
    assert chosen == Credentials("d-id", "d-s", None)


@pytest.mark.parametrize(
    ("profile", "problem"),
    [
        (
            {"name": "p", "mode": "RamRoleArn", "access_key_id": "a", "access_key_secret": "b"},
            "mode",
        ),
        ({"name": "p", "mode": "AK", "access_key_id": "", "access_key_secret": "b"}, "AccessKey"),
        (
            {"name": "p", "mode": "StsToken", "access_key_id": "a", "access_key_secret": "b"},
            "sts_token",
        ),
    ],
)
def test_unusable_profiles_say_why(tmp_path, profile, problem):
    write_profiles(tmp_path, "p", profile)
    with pytest.raises(ConfigurationError) as failure:
        resolve_credentials(settings(tmp_path))
    assert problem in failure.value.problem


def test_named_profile_must_exist(tmp_path):
    write_profiles(tmp_path, "default")
    with pytest.raises(ConfigurationError):
        resolve_credentials(settings(tmp_path, alibaba_cloud_profile="missing"))
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigurationError):
        resolve_credentials(settings(tmp_path))
