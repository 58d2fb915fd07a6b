"""The links in a Slack message, for "Check CDN tasks": Slack's `<url|label>` markup, bare URLs
and rich-text link elements, in the order they appear, each once, up to a limit.

A message is read as Slack sends it in a message shortcut's payload: its blocks (rich text,
sections, context), its `text` and its attachments' text. Whatever is not an http(s) URL with
a host name (mentions, channels, `mailto:`) is not a link here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.filters import MAX_URL
from bot.core.tasks import Task, host_of, newest_first

MAX_LINKS = 10  # links one shortcut looks up: one API call each
# What a message may hold that is worth counting; past this the rest is not read at all.
MAX_FOUND = 200
# Slack's markup: `<target>` or `<target|label>`; the target of a link is its URL.
_MARKUP = re.compile(r"<([^<>|]*)(?:\|[^<>]*)?>")
_BARE = re.compile(r"https?://[^\s<>\"'`|\\^{}]+", re.IGNORECASE)
_TRAILING = ".,;:!?*_~'\""
_PAIRS = {")": "(", "]": "[", "}": "{"}
# Text objects and elements whose text is shown literally: a URL in them is typed, not linked.
_LITERAL = frozenset({"text", "plain_text", "raw_text"})
# Text that walking a message's blocks may visit: deep enough for lists in quotes.
_MAX_DEPTH = 12


@dataclass(frozen=True)
class Links:
    """What a message links to: the URLs to look up (`checked`), the ones past the limit
    (`left_out`), and the ones too long to be an object path (`too_long`, never looked up)."""

    checked: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()
    too_long: tuple[str, ...] = ()


def links_in(message: Mapping[str, Any], *, limit: int = MAX_LINKS) -> Links:
    """The links of `message` (a message shortcut's `message`), the first `limit` to check."""
    found: list[str] = []
    too_long: list[str] = []
    seen: set[str] = set()
    for candidate in _candidates(message):
        url = _cleaned(candidate)
        if url is None or url in seen:
            continue
        seen.add(url)
        (too_long if len(url) > MAX_URL else found).append(url)
        if len(seen) >= MAX_FOUND:
            break
    return Links(tuple(found[:limit]), tuple(found[limit:]), tuple(too_long))


def _candidates(message: Mapping[str, Any]) -> Iterator[str]:
    """Every URL-looking string of the message, blocks first (they hold what people see),
    then the fallback text and the attachments'."""
    blocks = message.get("blocks")
    if isinstance(blocks, list):
        for block in blocks:
            yield from _in_block(block, depth=0)
    text = message.get("text")
    if isinstance(text, str):
        yield from in_mrkdwn(text)
    attachments = message.get("attachments")
    if isinstance(attachments, list):
        for attachment in attachments:
            if not isinstance(attachment, dict):
                continue
            for name in ("pretext", "title", "text"):
                value = attachment.get(name)
                if isinstance(value, str):
                    yield from in_mrkdwn(value)


def _in_block(node: Any, *, depth: int) -> Iterator[str]:
    """URLs in a block or a rich-text element: `link` elements, URLs typed in `text` elements
    (also in code, where Slack does not link them), mrkdwn text objects."""
    if depth > _MAX_DEPTH or not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "link" and isinstance(node.get("url"), str):
        yield node["url"]
        return
    if kind in _LITERAL and isinstance(node.get("text"), str):
        yield from bare_urls(node["text"])
        return
    if kind == "mrkdwn" and isinstance(node.get("text"), str):
        yield from in_mrkdwn(node["text"])
        return
    for name in ("text", "elements", "fields", "rows"):
        value = node.get(name)
        children = value if isinstance(value, list) else [value]
        for child in children:
            # A table's rows are lists of cells.
            for item in child if isinstance(child, list) else [child]:
                yield from _in_block(item, depth=depth + 1)


def in_mrkdwn(text: str) -> Iterator[str]:
    """URLs in Slack's markup: link targets, and bare URLs between the markup (entities
    undone: Slack sends `&`, `<` and `>` as `&amp;`, `&lt;` and `&gt;`)."""
    position = 0
    for match in _MARKUP.finditer(text):
        yield from bare_urls(_unescape(text[position : match.start()]))
        target = match.group(1)
        if re.match(r"https?://", target, re.IGNORECASE):
            yield _unescape(target)
        position = match.end()
    yield from bare_urls(_unescape(text[position:]))


def bare_urls(text: str) -> Iterator[str]:
    """http(s) URLs typed as they are, without the punctuation that ends a sentence."""
    for match in _BARE.finditer(text):
        yield _trimmed(match.group(0))


def _trimmed(url: str) -> str:
    """`url` without trailing punctuation, nor a closing bracket it never opened."""
    while url:
        last = url[-1]
        if last in _TRAILING or (last in _PAIRS and url.count(_PAIRS[last]) < url.count(last)):
            url = url[:-1]
        else:
            break
    return url


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _cleaned(candidate: str) -> str | None:
    """The URL as an object path (its #fragment never reaches a CDN), or None when it is not
    an http(s) URL with a host name."""
    url = candidate.strip().split("#", 1)[0]
    if not re.match(r"https?://", url, re.IGNORECASE) or any(c.isspace() for c in url):
        return None
    host = host_of(url)
    if "." not in host or host.startswith(".") or host.endswith(".") or "*" in host:
        return None
    return url


@dataclass(frozen=True)
class LinkTasks:
    """What "Check CDN tasks" found for a message's links: the tasks of the links it looked
    up (newest first), which links had none, and which it did not look up and why."""

    links: Links
    tasks: tuple[Task, ...] = ()
    without_tasks: tuple[str, ...] = ()
    outside: tuple[str, ...] = ()  # hosts the channel's domain scope does not cover
    scope: tuple[str, ...] = ()
    refreshable: tuple[str, ...] = ()  # what "Refresh these" fills the form with
    age: float = 0.0

    @property
    def looked_up(self) -> tuple[str, ...]:
        """The links whose tasks were asked for."""
        return tuple(url for url in self.links.checked if url not in self.outside)


def link_tasks(
    links: Links,
    found: Mapping[str, Sequence[Task]],
    *,
    outside: tuple[str, ...] = (),
    scope: tuple[str, ...] = (),
    refreshable: tuple[str, ...] = (),
    age: float = 0.0,
) -> LinkTasks:
    """The tasks `found` for each looked-up link (exactly that object path, each task once,
    newest first) and the links that had none."""
    tasks: dict[str, Task] = {}
    without = []
    for url, answer in found.items():
        exact = [task for task in answer if task.object_path == url]
        if not exact:
            without.append(url)
        tasks.update((task.task_id, task) for task in exact)
    ordered = tuple(sorted(tasks.values(), key=newest_first))
    return LinkTasks(links, ordered, tuple(without), outside, scope, refreshable, age)
