"""Slash-command text → tokens: undo what Slack does to text, then split on unquoted space.

Slack escapes `&`, `<`, `>` as entities, wraps URLs and host names it recognises in `<…|…>`, and
clients turn quotes and dashes into typographic ones. Everything here is undone first.
"""

from __future__ import annotations

import re

from bot.errors import InvalidQuery

_TYPOGRAPHY = str.maketrans(
    {
        "\u201c": '"',  # left double quote
        "\u201d": '"',  # right double quote
        "\u201e": '"',  # low double quote
        "\u00ab": '"',  # guillemets
        "\u00bb": '"',
        "\u2018": "'",  # left single quote
        "\u2019": "'",  # right single quote
        "\u201a": "'",  # low single quote
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2212": "-",  # minus sign
        "\u2011": "-",  # non-breaking hyphen
        "\uff1a": ":",  # fullwidth colon
        "\uff1d": "=",  # fullwidth equals
    }
)
# Any run of white space, including no-break and zero-width spaces, separates tokens.
_SPACE = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SLACK_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
MAX_TEXT = 4000


def _unwrap_link(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith(("@", "#", "!")):
        return match.group(0)  # a mention or special command: left for the parser to refuse
    if target.startswith("mailto:"):
        return label or target.removeprefix("mailto:")
    # Slack links bare host names ("example.com" → <http://example.com|example.com>): keep what
    # the person typed, not the scheme Slack guessed.
    if label and target.split("://", 1)[-1].rstrip("/") == label.rstrip("/"):
        return label
    return target


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def normalise(text: str) -> str:
    """The text as the person meant it: links unwrapped, entities and typography undone."""
    text = _CONTROL.sub(" ", text.translate(_TYPOGRAPHY))
    return _unescape(_SLACK_LINK.sub(_unwrap_link, text))


def tokenize(text: str) -> list[str]:
    """Split on white space outside quotes; a quoted part may hold spaces (`"a b"` or `'a b'`)."""
    if len(text) > MAX_TEXT:
        raise InvalidQuery(
            "text", text[:40] + "…", f"that is {len(text)} characters; keep it under {MAX_TEXT}"
        )
    text = normalise(text)
    tokens: list[str] = []
    current: list[str] = []
    quote = ""
    started = False
    for char in text:
        if quote:
            if char == quote:
                quote = ""
            else:
                current.append(char)
        elif char in "\"'" and _opens_quote(current):
            quote, started = char, True
        elif _SPACE.fullmatch(char):
            if current or started:
                tokens.append("".join(current))
            current, started = [], False
        else:
            current.append(char)
    if quote:
        raise InvalidQuery(
            "text", "".join(current)[:60], f"a {quote} quote is never closed; close it or remove it"
        )
    if current or started:
        tokens.append("".join(current))
    return tokens


def _opens_quote(current: list[str]) -> bool:
    # Quotes open a value at the start of a token or right after `key:` / `key=`; an apostrophe
    # inside a word (a URL like /it's.png) stays literal.
    return not current or current[-1] in ":="
