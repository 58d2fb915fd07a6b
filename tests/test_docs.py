"""The docs say what the code does: every filter key and alias is in the Slack help, the
terminal usage and the README, and the README's Layout names exactly the modules under bot/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.__main__ import _parser
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


def layout() -> list[tuple[tuple[str, ...], str]]:
    """What the README's Layout names: (path parts, what it says it owns), in its order.

    Two spaces of indent per level; a name ending in `/` is a folder the lines below it are in.
    """
    block = re.search(r"```\n(.*?)```", section("Layout"), re.DOTALL)
    assert block, "the Layout section has no code block"
    folders: list[str] = []
    entries = []
    for line in block.group(1).splitlines():
        indent = len(line) - len(line.lstrip(" "))
        name, _, owns = line.strip().partition(" ")
        assert indent % 2 == 0 and indent // 2 <= len(folders), f"misplaced: {line!r}"
        del folders[indent // 2 :]
        entries.append(((*folders, name.rstrip("/")), owns.strip()))
        if name.endswith("/"):
            folders.append(name.rstrip("/"))
    return entries


def test_layout_names_every_module_under_bot_and_only_those():
    named = {"/".join(parts) for parts, _ in layout() if parts[-1].endswith(".py")}
    real = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "bot").rglob("*.py")
        if path.name != "__init__.py"
    }
    assert not real - named, f"the README's Layout misses {sorted(real - named)}"
    assert not named - real, f"the README's Layout names what is gone: {sorted(named - real)}"
    folders = ["/".join(parts) for parts, _ in layout() if not parts[-1].endswith(".py")]
    assert all((ROOT / folder).is_dir() for folder in folders), folders


def test_layout_says_what_each_entry_owns_in_tree_order():
    entries = layout()
    assert all(owns for _, owns in entries), [p for p, owns in entries if not owns]
    under_bot = [parts for parts, _ in entries if parts[0] == "bot" and len(parts) > 1]
    for folder in {parts[:-1] for parts in under_bot}:
        names = [parts[-1] for parts in under_bot if parts[:-1] == folder]
        assert names == sorted(names), f"{'/'.join(folder)}/ is not in tree order: {names}"


def test_the_ram_policy_for_writes_allows_every_action_the_bot_calls():
    policies = re.findall(r"```json\n(.*?)```", section("Connect it to Slack"), re.DOTALL)
    actions = {a for p in policies for s in json.loads(p)["Statement"] for a in s["Action"]}
    needed = {"RefreshObjectCaches", "PushObjectCache", "DescribeRefreshQuota"}
    needed |= {"DescribeRefreshTaskById", "DescribeRefreshTasks"}
    assert {f"cdn:{action}" for action in needed} <= actions


@pytest.mark.parametrize("command", ["refresh", "prefetch"])
def test_every_flag_of_the_terminal_writes_is_in_the_readme(command):
    terminal = section("Asking from a terminal")
    parser = _parser()._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    flags = [o for action in parser._actions for o in action.option_strings if o.startswith("--")]
    missing = [flag for flag in flags if flag != "--help" and flag not in terminal]
    assert not missing, f"the README does not explain {missing} of `python -m bot {command}`"
    assert f"python -m bot {command}" in terminal
