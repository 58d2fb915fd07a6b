"""manifest.yml and Procfile: valid for Slack and matching what the code serves."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.slack.app import EVENTS_PATH
from bot.slack.commands import COMMAND

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).with_name("slack-manifest.schema.1.0.0.json")).read_text())


@pytest.fixture
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_is_valid_for_slack(manifest):
    jsonschema.validate(manifest, SCHEMA)


def test_manifest_declares_what_the_bot_needs(manifest):
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND and command["usage_hint"]
    assert command["should_escape"] is False  # the parser unwraps Slack's links itself
    assert {"commands", "chat:write", "chat:write.public"} <= set(
        manifest["oauth_config"]["scopes"]["bot"]
    )
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True


def test_http_mode_variant_from_the_readme_is_valid(manifest):
    http = copy.deepcopy(manifest)
    url = f"https://cdn-bot.example.com{EVENTS_PATH}"
    http["settings"]["socket_mode_enabled"] = False
    http["settings"]["interactivity"]["request_url"] = url
    http["features"]["slash_commands"][0]["url"] = url
    jsonschema.validate(http, SCHEMA)
    readme = (ROOT / "README.md").read_text()
    assert "socket_mode_enabled: false" in readme and EVENTS_PATH in readme


def test_broken_manifest_is_caught(manifest):
    manifest["features"]["slash_commands"][0]["command"] = "cdn"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(manifest, SCHEMA)


def test_procfile_runs_the_bot():
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines())
    assert lines["web"].strip() == "python -m bot"
    assert lines["worker"].strip() == "python -m bot"
