"""The refresh/prefetch form, pure: its view within Slack's limits, and what a submission of it
says (a Submission, or the hint under the field it is about)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.submission import Action, Kind
from bot.slack import modals
from bot.slack.modals import FormBlock, blank_write, read_form, write_form
from bot.slack.render import ActionId
from tests.slack.limits import check_modal


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("refresh", Action.REFRESH),
        ("  Prefetch ", Action.PREFETCH),
        ("REFRESH", Action.REFRESH),
        ("refresh https://www.example.com/a.js", None),
        ("refresh type:dir", None),
        ("", None),
        ("failed", None),
        ("refreshing", None),
        ('"unclosed', None),
    ],
)
def test_only_a_write_with_nothing_after_it_opens_the_form(text, action):
    assert blank_write(text) is action


@pytest.mark.parametrize("action", list(Action))
def test_the_form_fits_slacks_limits(action):
    view = write_form(action, channel="C0123456789")
    check_modal(view)
    urls = view["blocks"][0]
    assert urls["type"] == "input" and urls["block_id"] == FormBlock.URLS
    assert urls["element"]["multiline"] and urls["element"]["max_length"] == 3000
    assert "3,000 characters" in urls["hint"]["text"] and "terminal" in urls["hint"]["text"]
    assert json.loads(view["private_metadata"]) == {"action": action, "channel": "C0123456789"}
    assert view["callback_id"] == modals.CALLBACK_ID
    # Every field that is checked is an input block: only those show errors.
    assert all(block["type"] == "input" for block in view["blocks"])


def test_refresh_offers_the_kinds_and_force_prefetch_the_area():
    refresh = {b["block_id"]: b for b in write_form(Action.REFRESH, channel="C1")["blocks"]}
    kinds = refresh[FormBlock.KIND]["element"]
    assert [o["value"] for o in kinds["options"]] == ["file", "dir", "regex", "ignoreparams"]
    assert kinds["initial_option"]["value"] == "file"
    assert refresh[FormBlock.FORCE]["optional"]
    assert FormBlock.AREA not in refresh
    prefetch = {b["block_id"]: b for b in write_form(Action.PREFETCH, channel="C1")["blocks"]}
    areas = prefetch[FormBlock.AREA]["element"]["options"]
    assert [o["value"] for o in areas] == ["any", "domestic", "overseas"]
    assert FormBlock.KIND not in prefetch and FormBlock.FORCE not in prefetch


def submitted_view(action, urls, *, kind=None, force=False, area=None, channel="C1"):
    """The view Slack sends back when the form is submitted with these inputs."""
    view = write_form(action, channel=channel)
    values = {FormBlock.URLS: {ActionId.WRITE_URLS: {"type": "plain_text_input", "value": urls}}}
    if kind is not None:
        chosen = {"type": "radio_buttons", "selected_option": {"value": kind}}
        values[FormBlock.KIND] = {ActionId.WRITE_KIND: chosen}
    boxes = [{"value": "force"}] if force else []
    values[FormBlock.FORCE] = {
        ActionId.WRITE_FORCE: {"type": "checkboxes", "selected_options": boxes}
    }
    if area is not None:
        chosen = {"type": "radio_buttons", "selected_option": {"value": area}}
        values[FormBlock.AREA] = {ActionId.WRITE_AREA: chosen}
    return {**view, "id": "V1", "state": {"values": values}}


def test_a_valid_form_is_a_submission_for_its_channel():
    answer = read_form(
        submitted_view(
            Action.REFRESH,
            "https://a.example.com/static/\nhttps://b.example.com/img/, https://a.example.com/static/",
            kind="dir",
            force=True,
            channel="C0OPS",
        )
    )
    assert answer.errors == {} and answer.channel == "C0OPS"
    submission = answer.submission
    assert submission is not None
    assert (submission.action, submission.kind, submission.force) == (
        Action.REFRESH,
        Kind.DIRECTORY,
        True,
    )
    assert submission.paths == ("https://a.example.com/static/", "https://b.example.com/img/")


def test_prefetch_takes_its_area_and_any_means_none():
    chosen = read_form(
        submitted_view(Action.PREFETCH, "https://a.example.com/x.js", area="overseas")
    )
    assert chosen.submission is not None and chosen.submission.area == "overseas"
    default = read_form(submitted_view(Action.PREFETCH, "https://a.example.com/x.js", area="any"))
    assert default.submission is not None and default.submission.area is None


def test_the_forms_choice_wins_over_a_type_typed_among_the_urls():
    answer = read_form(
        submitted_view(Action.REFRESH, "type:dir https://a.example.com/a.js", kind="file")
    )
    assert answer.submission is not None and answer.submission.kind is Kind.FILE


@pytest.mark.parametrize(
    ("action", "urls", "options", "block", "words"),
    [
        (Action.REFRESH, "", {}, FormBlock.URLS, "name at least one URL"),
        (Action.REFRESH, None, {}, FormBlock.URLS, "name at least one URL"),
        (Action.REFRESH, "ftp://a.example.com/x", {}, FormBlock.URLS, "only http:// and https://"),
        (Action.REFRESH, "www.example.com/a.js", {}, FormBlock.URLS, "add the scheme"),
        (
            Action.REFRESH,
            "https://a.example.com/static",
            {"kind": "dir"},
            FormBlock.URLS,
            "a directory ends with /",
        ),
        (
            Action.REFRESH,
            "https://a.example.com/a.js",
            {"force": True},
            FormBlock.FORCE,
            "force applies to type:dir",
        ),
        (
            Action.REFRESH,
            "https://a.example.com/a.js",
            {"kind": "bogus"},
            FormBlock.KIND,
            "use one",
        ),
        # Prefetch has no force field: the refusal shows under the URLs, where it was typed.
        (Action.PREFETCH, "force https://a.example.com/a.js", {}, FormBlock.URLS, "force is for"),
        (Action.PREFETCH, "https://a.example.com/a.js", {"area": "moon"}, FormBlock.AREA, "area:"),
    ],
)
def test_a_refusal_shows_under_the_field_it_is_about(action, urls, options, block, words):
    answer = read_form(submitted_view(action, urls, **options))
    assert answer.submission is None
    assert list(answer.errors) == [block]
    (message,) = answer.errors.values()
    assert words in message and "`" not in message and len(message) <= 300


def test_too_many_domains_is_said_under_the_urls():
    urls = "\n".join(f"https://d{n}.example.com/a.js" for n in range(11))
    answer = read_form(submitted_view(Action.REFRESH, urls))
    assert "at most 10 domains" in answer.errors[FormBlock.URLS]


@pytest.mark.parametrize(
    "metadata",
    ["", "not json", "[]", '{"action": "delete", "channel": "C1"}', '{"action": "refresh"}'],
)
def test_a_form_whose_origin_cannot_be_read_asks_for_a_new_one(metadata):
    view = {
        **submitted_view(Action.REFRESH, "https://a.example.com/a.js"),
        "private_metadata": metadata,
    }
    answer = read_form(view)
    assert answer.submission is None and "open a new one" in answer.errors[FormBlock.URLS]


@pytest.mark.parametrize("state", [None, [], {"values": []}, {"values": {FormBlock.URLS: "x"}}])
def test_a_state_of_another_shape_is_an_empty_form(state):
    view = {**write_form(Action.REFRESH, channel="C1"), "state": state}
    assert "name at least one URL" in read_form(view).errors[FormBlock.URLS]


@given(urls=st.text(max_size=300), action=st.sampled_from(list(Action)))
def test_any_text_is_a_submission_or_errors_under_the_forms_own_fields(urls, action):
    view = submitted_view(action, urls)
    answer = read_form(view)
    fields = {block["block_id"] for block in view["blocks"]}
    assert (answer.submission is None) == bool(answer.errors)
    assert set(answer.errors) <= fields


def test_a_form_opened_from_no_channel_asks_for_one_and_answers_there():
    view = write_form(Action.REFRESH, channel=None)
    check_modal(view)
    picker = view["blocks"][0]
    assert picker["block_id"] == FormBlock.CHANNEL and picker["type"] == "input"
    assert picker["element"]["filter"] == {"include": ["public", "private"]}
    urls = {FormBlock.URLS: {ActionId.WRITE_URLS: {"value": "https://www.example.com/a.js"}}}
    unpicked = read_form({**view, "state": {"values": urls}})
    assert unpicked.submission is None and list(unpicked.errors) == [FormBlock.CHANNEL]
    picked = {
        **urls,
        FormBlock.CHANNEL: {
            ActionId.WRITE_CHANNEL: {"type": "conversations_select", "selected_conversation": "C7"}
        },
    }
    answer = read_form({**view, "state": {"values": picked}})
    assert answer.channel == "C7" and answer.submission is not None


def test_a_channel_named_when_opened_wins_over_anything_picked():
    view = write_form(Action.PREFETCH, channel="C1")
    assert all(block["block_id"] != FormBlock.CHANNEL for block in view["blocks"])
    values = {
        FormBlock.URLS: {ActionId.WRITE_URLS: {"value": "https://www.example.com/a.js"}},
        FormBlock.CHANNEL: {ActionId.WRITE_CHANNEL: {"selected_conversation": "C666"}},
    }
    assert read_form({**view, "state": {"values": values}}).channel == "C1"


def test_the_urls_can_be_filled_in_up_to_the_inputs_limit():
    urls = "https://www.example.com/a.js\nhttps://www.example.com/b.js"
    view = write_form(Action.REFRESH, channel="C1", urls=urls)
    check_modal(view)
    assert view["blocks"][0]["element"]["initial_value"] == urls
    long = write_form(Action.REFRESH, channel="C1", urls="x" * 5000)
    assert len(long["blocks"][0]["element"]["initial_value"]) == modals.MAX_URL_TEXT
    assert "initial_value" not in write_form(Action.REFRESH, channel="C1")["blocks"][0]["element"]


def test_a_notice_is_a_modal_with_only_a_close_button():
    section = {"type": "section", "text": {"type": "mrkdwn", "text": ":warning: no"}}
    view = modals.notice_of([section])
    check_modal(view)
    assert view["close"]["text"] == "Close" and "submit" not in view
    assert view["blocks"] == [section]
