"""The `/cdn help` message: what the bot does, grouped, with examples to copy."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.core.display import shorten_middle
from bot.core.filters import FALLBACK_COMMANDS, SLACK_PAGE_SIZE, closest_commands
from bot.core.tasks import MAX_PAGE_SIZE
from bot.slack.render import Reply, escape

TOPICS: dict[str, tuple[str, str]] = {
    "tasks": (
        ":mag: Find tasks",
        "`/cdn failed` — failed tasks of the last 3 days\n"
        "`/cdn www.example.com since:2h` — one domain, last two hours\n"
        "`/cdn status:refreshing type:preload` — prefetches still running\n"
        "`/cdn url:https://www.example.com/app.js` — one object path (exact match)\n"
        "`/cdn task 704225667,704222904` — look tasks up by ID",
    ),
    "filters": (
        ":label: Filters",
        "`id:` `url:` `domain:` `type:` `status:` `since:` `until:` `page:` `size:` `rg:` — "
        "as `key:value` or `key=value`, in any order and any case.\n"
        "*Also spelled:* `task:` `taskid:` `ids:` for `id:` · `path:` `objectpath:` for `url:` · "
        "`host:` `domainname:` for `domain:` · `kind:` `objecttype:` for `type:` · "
        "`state:` for `status:` · `from:` `start:` `after:` for `since:` · "
        "`to:` `end:` `before:` for `until:` · `pagesize:` `limit:` for `size:` · "
        "`resourcegroup:` `resourcegroupid:` for `rg:`\n"
        "*type:* `file` `directory` (`dir`) `preload` (`prefetch`) `regex` `ignoreparams` "
        "`block` `unblock`\n"
        "*status:* `complete` (`done`) `refreshing` (`running`) `failed` `pending`\n"
        "*domain:* one domain, or `*.example.com` for the account's domains under it "
        "(up to 10, newest 100 tasks; the answer names them)\n"
        "Bare words work too: a task ID, a URL, a domain, a status or a type word.",
    ),
    "time": (
        ":clock3: Time",
        "`since:30m` `since:2h` `since:1d` `since:1h30m` · `today` · `yesterday` · "
        "`since:2026-11-27` · `until:2026-11-27T10:00Z`\n"
        "Times without a zone are yours. The API keeps 3 days of history.",
    ),
    "paging": (
        ":page_facing_up: Pages and sharing",
        f"Results come 20 to a page; `size:` takes 1 to {MAX_PAGE_SIZE}, and a Slack table "
        f"shows at most {SLACK_PAGE_SIZE} (`size:{MAX_PAGE_SIZE}` gives pages of "
        f"{SLACK_PAGE_SIZE}). ◀ Prev / Next ▶ page through, "
        "*Refresh* asks Alibaba Cloud again instead of using the cache, "
        "*Share to channel* posts the page for everyone.",
    ),
    "refresh": (
        ":broom: Refresh and prefetch",
        "`/cdn refresh https://www.example.com/app.js` — refresh (purge) files; separate URLs "
        "with spaces, commas or new lines\n"
        "`/cdn refresh type:dir https://www.example.com/static/` — a directory (ends with `/`); "
        "also `type:regex` and `type:ignoreparams`; `force` re-fetches even unchanged objects\n"
        "`/cdn prefetch https://www.example.com/big.mp4 area:overseas` — warm the caches "
        "(`area:domestic` or `area:overseas`)\n"
        "`/cdn refresh` or `/cdn prefetch` alone opens a form (up to 3,000 characters of URLs).\n"
        "You first see, privately, what will be submitted and today's quota left; nothing is "
        "sent until you press the button, and it works once. One message in the channel then "
        "follows the tasks to the end, with *Retry failed* for whatever failed (after the same "
        "confirmation). Needs manage rights; a channel limited to some domains refreshes only "
        "those. From a terminal: `python -m bot refresh URL… --yes`.",
    ),
    "stats": (
        ":bar_chart: Stats",
        "`/cdn stats` — the last day in numbers: tasks by status, the failure rate, the domains "
        "and reasons that failed most, and how long tasks took to complete (median and p90), "
        "each beside the day before\n"
        "`/cdn stats domain:www.example.com type:file since:2d` — one domain, one type, a "
        "longer period (back as far as the bot keeps its task history)\n"
        "A chart of tasks per hour by status (per day past a week) comes to your DM with the "
        "bot; *Share to channel* posts the numbers and the chart for everyone. A channel "
        "limited to some domains counts only those. "
        'From a terminal: `python -m bot query "stats since:2d"` (numbers only).',
    ),
    "subscribe": (
        ":bell: Failure notifications",
        "`/cdn subscribe` — this channel hears about every failed task\n"
        "`/cdn subscribe domain:www.example.com type:file` — only some of them "
        "(`domain:*.example.com` covers subdomains)\n"
        "Tasks that stay Pending or Refreshing too long are announced too (⏳), and how they "
        "end is told in that notice's thread; `/cdn subscribe stuck:off` leaves them out\n"
        "`/cdn subscriptions` — what this channel gets, and what is muted · "
        "`/cdn unsubscribe all`\n"
        "`/cdn unmute www.example.com` or `/cdn unmute all` — lift a notification's *Mute*",
    ),
}
ALIASES = {"filter": "filters", "times": "time", "pages": "paging", "share": "paging",
           "notifications": "subscribe", "subscriptions": "subscribe", "mute": "subscribe",
           "unmute": "subscribe", "stuck": "subscribe", "find": "tasks",
           "prefetch": "refresh", "retry": "refresh", "purge": "refresh",
           "chart": "stats", "statistics": "stats", "trends": "stats"}  # fmt: skip


def unknown_reply(word: str) -> Reply:
    """A word we did not understand: say so and offer the two or three closest things."""
    shown = escape(shorten_middle(word, 60))
    found = [f"/cdn {command}" for command in closest_commands(word)]
    tries = found or [f"/cdn {command}" for command in FALLBACK_COMMANDS]
    lead = "Closest to that" if found else "Some things to try"
    text = (
        f"I don't know `{shown}`. {lead}: "
        + " · ".join(f"`{escape(t)}`" for t in tries)
        + " — `/cdn help` lists everything."
    )
    return Reply(text=text, blocks=(SectionBlock(text=MarkdownTextObject(text=text)),))


def help_reply(topic: str | None = None, *, unknown: str | None = None) -> Reply:
    """Grouped help; one topic when asked for one, everything otherwise; a few near matches
    for an `unknown` word."""
    if unknown:
        return unknown_reply(unknown)
    chosen = ALIASES.get(topic or "", topic or "")
    sections = [TOPICS[chosen]] if chosen in TOPICS else list(TOPICS.values())
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="/cdn — Alibaba Cloud CDN tasks"))]
    intro = []
    if unknown:
        intro.append(f"I don't know `{escape(unknown[:80])}`. Here is what I can do:")
    elif topic and chosen not in TOPICS:
        intro.append(f"There is no help topic `{escape(topic[:80])}`; here is all of it.")
    if intro:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=intro[0])))
    for title, body in sections:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{title}*\n{body}")))
    blocks += [
        DividerBlock(),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Topics: " + " · ".join(f"`/cdn help {name}`" for name in TOPICS)
                )
            ]
        ),
    ]
    text = "How to use /cdn: " + "; ".join(title.split(" ", 1)[1] for title, _ in sections)
    return Reply(text=text, blocks=tuple(blocks))
