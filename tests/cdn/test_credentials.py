"""Credentials from the environment's values (as the composition root reads them) or the
Alibaba Cloud CLI profile file."""

from __future__ import annotations

import json

import pytest

from bot.cdn.credentials import Credentials, resolve_credentials
from bot.errors import ConfigurationError


def resolve(tmp_path, key_id=None, secret=None, **options):
    return resolve_credentials(key_id, secret, config_file=tmp_path / "config.json", **options)


def write_profiles(tmp_path, current, *profiles):
    (tmp_path / "config.json").write_text(
        json.dumps({"current": current, "profiles": list(profiles)})
    )


def test_environment_wins(tmp_path):
    write_profiles(
        tmp_path,
        "default",
        {"name": "default", "mode": "AK", "access_key_id": "f", "access_key_secret": "s"},
    )
    found = resolve(tmp_path, "env-id", "env-secret", security_token="env-token")
    assert found == Credentials("env-id", "env-secret", "env-token")
    assert "env-secret" not in repr(found) and "env-token" not in repr(found)


def test_half_a_key_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError) as failure:
        resolve(tmp_path, "only-id")
    assert failure.value.setting == "ALIBABA_CLOUD_ACCESS_KEY_SECRET"


def test_no_credentials_anywhere_means_none(tmp_path):
    assert resolve(tmp_path) is None


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
    assert resolve(tmp_path) == Credentials("w-id", "w-s", "w-t")
    chosen = resolve(tmp_path, profile="default")
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
        resolve(tmp_path)
    assert problem in failure.value.problem


def test_named_profile_must_exist(tmp_path):
    write_profiles(tmp_path, "default")
    with pytest.raises(ConfigurationError):
        resolve(tmp_path, profile="missing")
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigurationError):
        resolve(tmp_path)


def test_half_a_key_without_its_id_names_the_id(tmp_path):
    with pytest.raises(ConfigurationError) as failure:
        resolve(tmp_path, secret="only-secret")
    assert failure.value.setting == "ALIBABA_CLOUD_ACCESS_KEY_ID"
