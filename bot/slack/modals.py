"""The write form, pure: the modal `/cdn refresh` or `/cdn prefetch` opens with nothing after
them (as do the App Home's buttons and the shortcuts), and what its submission says (a
Submission, or the errors to show under its fields); and the modal that answers where nothing
else can (a Home button, a global shortcut).

Every field that is checked is an input block: Slack shows `response_action: errors` only there.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
)
from slack_sdk.models.views import View

from bot.core.submission import Action, Submission, parse_submission
from bot.core.tokens import tokenize
from bot.errors import InvalidQuery
from bot.slack.render import ActionId

CALLBACK_ID = "cdn_write_form"
# Slack's cap on a text input; a longer list goes in several submissions or the terminal.
MAX_URL_TEXT = 3000
_ERROR_LENGTH = 300  # an error is a line under a field, not a page


class FormBlock(StrEnum):
    """The block_id of each field of the form."""

    URLS = "cdn_write_urls"
    KIND = "cdn_write_kind"
    FORCE = "cdn_write_force"
    AREA = "cdn_write_area"
    # Only where the form is opened from no channel (the global shortcut): where to answer.
    CHANNEL = "cdn_write_channel"


_TITLE = {Action.REFRESH: "CDN refresh", Action.PREFETCH: "CDN prefetch"}
_SUBMIT = {Action.REFRESH: "Review refresh", Action.PREFETCH: "Review prefetch"}
# The kinds as `type:` words of parse_submission, with what each means.
_KINDS = (
    ("file", "Files", "Each URL is one file"),
    ("dir", "Directories", "Everything under each URL; URLs end with /"),
    ("regex", "Regular expression", "Cached URLs matching a pattern"),
    ("ignoreparams", "Ignore parameters", "Each file, whatever its ?query string"),
)
_AREAS = (
    ("any", "The domain's own coverage"),
    ("domestic", "Mainland China only"),
    ("overseas", "Outside mainland China only"),
)
# Which field shows a refusal of each part of the text parse_submission reads.
_FIELD_BLOCKS = {
    "type": FormBlock.KIND,
    "force": FormBlock.FORCE,
    "area": FormBlock.AREA,
    "channel": FormBlock.CHANNEL,
}


def blank_write(text: str) -> Action | None:
    """The write `text` asks for with nothing after it (`refresh`, `prefetch`), if it does."""
    try:
        words = tokenize(text)
    except InvalidQuery:
        return None
    if len(words) != 1:
        return None
    return next((action for action in Action if action.value == words[0].lower()), None)


def write_form(action: Action, *, channel: str | None, urls: str = "") -> dict[str, Any]:
    """The modal for `action` asked for in `channel` (which the submission answers in), its
    URLs filled in with `urls`. Opened from no channel (None), it asks where to answer."""
    blocks: list[Block] = []
    if channel is None:
        blocks.append(
            InputBlock(
                block_id=FormBlock.CHANNEL,
                label="Channel",
                element=ConversationSelectElement(
                    action_id=ActionId.WRITE_CHANNEL,
                    default_to_current_conversation=True,
                    filter=ConversationFilter(include=["public", "private"]),
                    placeholder="Where the confirmation and progress go",
                ),
                hint="Rights and domain limits are those of this channel, as for /cdn there.",
            )
        )
    blocks.append(
        InputBlock(
            block_id=FormBlock.URLS,
            label="URLs",
            element=PlainTextInputElement(
                action_id=ActionId.WRITE_URLS,
                multiline=True,
                max_length=MAX_URL_TEXT,
                placeholder="https://www.example.com/app.js",
                initial_value=urls[:MAX_URL_TEXT] or None,
            ),
            hint=(
                "One per line, or separated by spaces or commas. Up to 3,000 characters; "
                "for longer lists use several submissions or the terminal."
            ),
        )
    )
    if action is Action.REFRESH:
        kinds = [_option(word, label, about) for word, label, about in _KINDS]
        blocks.append(
            InputBlock(
                block_id=FormBlock.KIND,
                label="What the URLs name",
                element=RadioButtonsElement(
                    action_id=ActionId.WRITE_KIND, options=kinds, initial_option=kinds[0]
                ),
            )
        )
        blocks.append(
            InputBlock(
                block_id=FormBlock.FORCE,
                label="Force",
                optional=True,
                element=CheckboxesElement(
                    action_id=ActionId.WRITE_FORCE,
                    options=[
                        _option(
                            "force",
                            "Re-fetch everything, changed or not",
                            "Not for files: directories, patterns and ignore-parameters only",
                        )
                    ],
                ),
            )
        )
    else:
        areas = [_option(word, label) for word, label in _AREAS]
        blocks.append(
            InputBlock(
                block_id=FormBlock.AREA,
                label="Where to prefetch",
                element=RadioButtonsElement(
                    action_id=ActionId.WRITE_AREA, options=areas, initial_option=areas[0]
                ),
            )
        )
    view = View(
        type="modal",
        callback_id=CALLBACK_ID,
        title=_TITLE[action],
        submit=_SUBMIT[action],
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"action": action.value, "channel": channel or ""}),
    )
    return view.to_dict()


def _option(value: str, label: str, description: str | None = None) -> Option:
    return Option(value=value, text=PlainTextObject(text=label), description=description)


@dataclass(frozen=True)
class FormAnswer:
    """A submitted form: the Submission it holds, or the errors to show under its fields."""

    channel: str
    submission: Submission | None = None
    errors: dict[str, str] = field(default_factory=dict)


def read_form(view: dict[str, Any]) -> FormAnswer:
    """What the submitted `view` (a view_submission's `view`) asks for."""
    try:
        action, channel = form_origin(view)
    except InvalidQuery as error:
        return FormAnswer("", errors=form_errors(error, Action.REFRESH))
    try:
        return FormAnswer(channel, submission=submitted(view))
    except InvalidQuery as error:
        return FormAnswer(channel, errors=form_errors(error, action))


def form_origin(view: dict[str, Any]) -> tuple[Action, str]:
    """The action and channel a submitted form was opened for (or whose channel was picked
    in it), or InvalidQuery."""
    try:
        origin = json.loads(str(view.get("private_metadata", "")))
        action = Action(origin["action"])
        opened_in = origin["channel"]
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidQuery(
            "form",
            "",
            "this form is out of date: open a new one with /cdn refresh or /cdn prefetch",
        ) from exc
    if isinstance(opened_in, str) and opened_in:
        return action, opened_in
    picked = _value(_values(view), FormBlock.CHANNEL, ActionId.WRITE_CHANNEL)
    chosen = picked.get("selected_conversation")
    if not isinstance(chosen, str) or not chosen:
        raise InvalidQuery("channel", "", "pick the channel to answer in")
    return action, chosen


def _values(view: dict[str, Any]) -> Any:
    state = view.get("state")
    return state.get("values") if isinstance(state, dict) else None


def submitted(view: dict[str, Any]) -> Submission:
    """The Submission a submitted form holds, or InvalidQuery naming what to change."""
    action, _ = form_origin(view)
    values = _values(view)
    urls = _value(values, FormBlock.URLS, ActionId.WRITE_URLS).get("value") or ""
    # The form's choices go last, so they win over any option typed among the URLs.
    words = [str(urls)]
    if action is Action.REFRESH:
        words.append(f"type:{_chosen(values, FormBlock.KIND, ActionId.WRITE_KIND) or 'file'}")
        picked = _value(values, FormBlock.FORCE, ActionId.WRITE_FORCE).get("selected_options")
        if picked:
            words.append("force")
    else:
        area = _chosen(values, FormBlock.AREA, ActionId.WRITE_AREA)
        if area and area != "any":
            words.append(f"area:{area}")
    return parse_submission(action, "\n".join(words))


def _value(values: Any, block: str, action_id: str) -> dict[str, Any]:
    inner = values.get(block) if isinstance(values, dict) else None
    found = inner.get(action_id) if isinstance(inner, dict) else None
    return found if isinstance(found, dict) else {}


def _chosen(values: Any, block: str, action_id: str) -> str | None:
    option = _value(values, block, action_id).get("selected_option")
    return str(option.get("value")) if isinstance(option, dict) else None


def form_errors(error: InvalidQuery, action: Action) -> dict[str, str]:
    """`response_action: errors` for a refused form: the hint under the field it is about."""
    block = _FIELD_BLOCKS.get(error.field, FormBlock.URLS)
    if block is FormBlock.AREA and action is Action.REFRESH:
        block = FormBlock.URLS
    if block in (FormBlock.KIND, FormBlock.FORCE) and action is Action.PREFETCH:
        block = FormBlock.URLS
    # Errors are plain text: the hint's `code` marks would show as backquotes.
    hint = error.hint.replace("`", "")
    message = f"{error.value}: {hint}" if error.value and error.value not in hint else hint
    if len(message) > _ERROR_LENGTH:
        message = message[: _ERROR_LENGTH - 1] + "…"
    return {block.value: message}


NOTICE_TITLE = "CDN Task Bot"
MAX_VIEW_BLOCKS = 100


def notice_of(blocks: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A modal that only shows `blocks` (a reply's sections and context), with Close."""
    view = View(
        type="modal", title=NOTICE_TITLE, close="Close", blocks=list(blocks[:MAX_VIEW_BLOCKS])
    )
    return view.to_dict()
