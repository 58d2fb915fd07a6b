"""manifest.yml, manifest.workflows.yml and Procfile: valid for Slack and matching what the
code serves."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.core.steps import (
    REFRESH_INPUTS,
    REFRESH_OUTPUTS,
    REFRESH_STEP,
    STATUS_INPUTS,
    STATUS_OUTPUTS,
    STATUS_STEP,
    task_counts,
)
from bot.slack import home
from bot.slack import shortcuts as shortcuts_module
from bot.slack.app import EVENTS_PATH
from bot.slack.commands import COMMAND

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).with_name("slack-manifest.schema.1.0.0.json")).read_text())


@pytest.fixture
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


@pytest.fixture
def workflows() -> dict:
    return yaml.safe_load((ROOT / "manifest.workflows.yml").read_text())


def test_manifest_is_valid_for_slack(manifest):
    jsonschema.validate(manifest, SCHEMA)


def test_the_workflows_manifest_is_valid_for_slack(workflows):
    jsonschema.validate(workflows, SCHEMA)


def test_manifest_opens_the_home_and_declares_both_shortcuts(manifest):
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == [home.EVENT]
    shortcuts = {s["callback_id"]: s["type"] for s in manifest["features"]["shortcuts"]}
    assert shortcuts == {
        shortcuts_module.CHECK_LINKS: "message",
        shortcuts_module.NEW_REFRESH: "global",
    }
    # The Home lists the subscriptions of each person's channels (users.conversations).
    assert {"channels:read", "groups:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])
    # Installable anywhere: no steps, no org-ready opt-in.
    assert "functions" not in manifest and manifest["settings"]["org_deploy_enabled"] is False


def test_the_workflows_manifest_is_manifest_yml_plus_the_steps(manifest, workflows):
    steps = copy.deepcopy(workflows)
    functions = steps.pop("functions")
    settings = steps["settings"]
    assert settings.pop("org_deploy_enabled") is True
    assert settings.pop("function_runtime") == "remote"
    assert settings.pop("hermes_app_type") == "remote"
    events = settings["event_subscriptions"]["bot_events"]
    assert events[-1] == "function_executed"
    events.pop()
    plain = copy.deepcopy(manifest)
    assert plain["settings"].pop("org_deploy_enabled") is False
    assert steps == plain  # nothing else differs, so the two never drift apart
    assert set(functions) == {REFRESH_STEP, STATUS_STEP}


@pytest.mark.parametrize(
    ("step", "inputs", "outputs"),
    [
        (REFRESH_STEP, REFRESH_INPUTS, REFRESH_OUTPUTS),
        (STATUS_STEP, STATUS_INPUTS, STATUS_OUTPUTS),
    ],
)
def test_each_step_declares_what_the_code_reads_and_writes(workflows, step, inputs, outputs):
    declared = workflows["functions"][step]
    assert len(step) <= 100 and declared["title"] and declared["description"]
    parameters = declared["input_parameters"]
    assert {name: p["is_required"] for name, p in parameters.items()} == inputs
    assert all(p["name"] == name and p["title"] for name, p in parameters.items())
    assert parameters["requested_by"]["type"] == "slack#/types/user_id"
    results = declared["output_parameters"]
    assert tuple(results) == outputs
    assert all(p["name"] == name and p["is_required"] for name, p in results.items())


def test_the_refresh_step_outputs_match_its_declared_types(workflows):
    declared = workflows["functions"][REFRESH_STEP]["output_parameters"]
    assert (declared["task_ids"]["type"], declared["submitted"]["type"]) == ("string", "integer")
    counts = task_counts(["1"], [])
    status = workflows["functions"][STATUS_STEP]["output_parameters"]
    kinds = {"string": str, "integer": int}
    assert all(
        isinstance(value, kinds[status[name]["type"]]) for name, value in counts.outputs().items()
    )


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


@pytest.mark.parametrize("name", ["manifest.yml", "manifest.workflows.yml"])
def test_http_mode_with_events_from_the_readme_is_valid(name):
    http = yaml.safe_load((ROOT / name).read_text())
    url = f"https://cdn-bot.example.com{EVENTS_PATH}"
    http["settings"]["socket_mode_enabled"] = False
    http["settings"]["interactivity"]["request_url"] = url
    http["settings"]["event_subscriptions"]["request_url"] = url
    http["features"]["slash_commands"][0]["url"] = url
    jsonschema.validate(http, SCHEMA)
    readme = (ROOT / "README.md").read_text()
    assert "event_subscriptions:" in readme and "request_url" in readme


def test_broken_manifest_is_caught(manifest):
    manifest["features"]["slash_commands"][0]["command"] = "cdn"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(manifest, SCHEMA)


def test_procfile_runs_the_bot():
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines())
    assert lines["web"].strip() == "python -m bot"
    assert lines["worker"].strip() == "python -m bot"


@pytest.mark.parametrize("name", ["manifest.yml", "manifest.workflows.yml"])
def test_both_manifests_let_the_stats_chart_be_uploaded(name):
    scopes = yaml.safe_load((ROOT / name).read_text())["oauth_config"]["scopes"]["bot"]
    # files.getUploadURLExternal and files.completeUploadExternal; conversations.open of a DM.
    assert {"files:write", "im:write"} <= set(scopes)
