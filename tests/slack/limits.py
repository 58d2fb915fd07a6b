"""Slack's message limits, checked on the JSON we send (slack_sdk checks only some of them)."""

from __future__ import annotations

import re

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

CELL_TEXT_BUDGET = 10_000  # what Slack allows per message, roughly; we aim for 9,000
# Strings that would ping, link or format if they reached mrkdwn unescaped.
HOSTILE = ["<!channel>", "<!here>", "<@U123>", "<!subteam^S1>", "<http://evil|ok>", "&lt;"]
HOSTILE += ["`x`", "*bold* _it_", "a\nb"]


def _cell_text(cell: dict) -> int:
    if cell["type"] in ("raw_text", "raw_number"):
        return len(cell["text"])
    total = 0
    for section in cell.get("elements", []):
        for element in section.get("elements", []):
            total += len(element.get("text", "")) + len(element.get("fallback", ""))
    return total


def check_message(payload: dict) -> None:
    """Raise AssertionError naming the first limit the message breaks."""
    blocks = payload["blocks"]
    assert payload["text"] and len(payload["text"]) <= 4000, "fallback text"
    assert len(blocks) <= 50, "more than 50 blocks"
    for block in blocks:
        assert Block.parse(block).to_dict() == block, f"{block['type']} does not round-trip"
        assert len(block.get("block_id", "")) <= 255
    tables = [block for block in blocks if block["type"] == "table"]
    assert len(tables) <= 1, "more than one table"
    for table in tables:
        assert 1 <= len(table["rows"]) <= 100, "table rows"
        assert all(len(row) <= 20 for row in table["rows"]), "cells per row"
        assert len(table.get("column_settings", [])) <= 20
        cell_text = sum(_cell_text(cell) for row in table["rows"] for cell in row)
        assert cell_text <= CELL_TEXT_BUDGET, f"{cell_text} characters of cell text"
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            assert len(block.get("text", {}).get("text", "")) <= 3000
            fields = block.get("fields", [])
            assert len(fields) <= 10 and all(len(f["text"]) <= 2000 for f in fields)
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            for element in block["elements"]:
                assert len(element["action_id"]) <= 255
                if element["type"] == "button":
                    assert len(element["text"]["text"]) <= 75
                    assert len(element.get("value", "")) <= 2000, "button value"
                elif element["type"] == "static_select":
                    assert len(element["placeholder"]["text"]) <= 150
                    assert 1 <= len(element["options"]) <= 100, "select options"
                    for option in element["options"]:
                        assert len(option["text"]["text"]) <= 75
                        assert len(option["value"]) <= 150, "option value"


def check_modal(view: dict) -> None:
    """Raise AssertionError naming the first limit a modal view breaks."""
    assert View(**view).to_dict() == view, "the view does not round-trip"
    assert view["type"] == "modal"
    for name in ("title", "submit", "close"):
        if name in view:
            assert view[name]["type"] == "plain_text" and len(view[name]["text"]) <= 24, name
    assert 1 <= len(view["blocks"]) <= 100, "blocks"
    assert len(view.get("private_metadata", "")) <= 3000, "private_metadata"
    assert len(view.get("callback_id", "")) <= 255, "callback_id"
    inputs = [block for block in view["blocks"] if block["type"] == "input"]
    assert not inputs or "submit" in view, "a view with inputs needs a submit button"
    block_ids = [block.get("block_id") for block in view["blocks"]]
    assert len(set(block_ids)) == len(block_ids), "block_ids repeat"
    for block in inputs:
        assert len(block["label"]["text"]) <= 2000 and len(block.get("block_id", "")) <= 255
        assert len(block.get("hint", {}).get("text", "")) <= 2000, "hint"
        element = block["element"]
        assert len(element.get("action_id", "")) <= 255
        if element["type"] == "plain_text_input":
            assert 1 <= element.get("max_length", 3000) <= 3000, "max_length"
        for option in element.get("options", []):
            assert len(option["text"]["text"]) <= 75 and len(option["value"]) <= 150
            assert len(option.get("description", {}).get("text", "")) <= 75, "description"
        if element["type"] == "radio_buttons":
            assert 1 <= len(element["options"]) <= 10, "radio options"
        if element["type"] == "checkboxes":
            assert 1 <= len(element["options"]) <= 10, "checkbox options"


def mrkdwn_texts(payload: dict) -> list[str]:
    """Every string Slack reads as mrkdwn: the fallback text and mrkdwn text objects."""
    found = [payload["text"]]

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload["blocks"])
    return found


def assert_inert(payload: dict) -> None:
    """No mrkdwn string holds a control sequence except our own dates and user mentions."""
    for text in mrkdwn_texts(payload):
        for match in re.finditer(r"<([^>]*)>", text):
            inside = match.group(1)
            assert inside.startswith("!date^") or re.fullmatch(r"@[UW][A-Z0-9]+", inside), (
                f"control sequence <{inside}> in {text!r}"
            )
