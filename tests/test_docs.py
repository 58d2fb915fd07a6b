"""The docs say what the code does: every filter key and alias is in the Slack help, the
terminal usage and the README, and the README's Layout names exactly the modules under bot/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.console import USAGE
from bot.core.filters import KEYS, STATUS_WORDS, TYPE_WORDS
from bot.slack.help import TOPICS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")


def section(title: str) -> str:
    """The README's text under the `## {title}` heading, up to the next heading of that level."""
    found = re.search(
        rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.MULTILINE | re.DOTALL
    )
    assert found, f"the README has no `## {title}` section"
    return found.group(1)


def readme_filters() -> str:
    paragraphs = section("Asking from a terminal").split("\n\n")
    return next(p for p in paragraphs if p.startswith("Filters are"))


DOCS = {
    "/cdn help filters": TOPICS["filters"][1],
    "the terminal usage": USAGE,
    "the README's filter list": readme_filters(),
}
# Each type and status once, in the spelling the docs teach (all other spellings are aliases).
VALUES = sorted({word.lower() for word in (*TYPE_WORDS.values(), *STATUS_WORDS.values())})


def mentions_key(text: str, key: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(key)}[:=]", text) is not None


def mentions_word(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


@pytest.mark.parametrize("doc", DOCS)
def test_every_filter_key_and_alias_is_documented(doc):
    missing = [key for key in KEYS if not mentions_key(DOCS[doc], key)]
    assert not missing, f"{doc} does not mention {', '.join(f'{k}:' for k in missing)}"


@pytest.mark.parametrize("doc", DOCS)
def test_every_type_and_status_is_documented(doc):
    missing = [word for word in VALUES if not mentions_word(DOCS[doc], word)]
    assert not missing, f"{doc} does not mention {', '.join(missing)}"
