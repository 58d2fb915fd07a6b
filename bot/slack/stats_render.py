"""Pure Block Kit of `/cdn stats`: the numbers of a period beside the period before, where the
chart went (or why it did not), and "Share to channel"; useful as text without the chart."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.core.display import REASON_LABELS, STATUS_EMOJI, shorten_middle
from bot.core.query import Stats
from bot.core.stats import (
    Report,
    Summary,
    count_change,
    duration_text,
    encode_stats,
    percent_text,
    period_text,
    rate_change,
)
from bot.core.tasks import Status
from bot.slack.render import (
    HEADER_LIMIT,
    SECTION_LIMIT,
    TEXT_LIMIT,
    ActionId,
    Reply,
    counted,
    escape,
    mention,
    slack_date,
)
from bot.slack.uploads import Uploaded

# What people are told when the chart could not be shared, by Slack's error code.
UPLOAD_WORDS = {
    "not_in_channel": "the bot is not in this channel: `/invite` it, then share again",
    "channel_not_found": "the bot cannot see this channel: `/invite` it, then share again",
    "is_archived": "this channel is archived",
    "missing_scope": "the app may not upload files here yet (it needs `files:write` and "
    "`im:write`): ask the bot's operator to reinstall it",
    "not_allowed_token_type": "the app may not upload files with its token",
    "timeout": "Slack did not take the upload in time; try again in a moment",
    "unreachable": "Slack could not be reached",
    "ratelimited": "Slack asked the bot to slow down; try again in a minute",
    "no_uploads": "this bot is not set up to upload files",
}


def _what(query: Stats) -> str:
    parts = [query.domain or "CDN tasks"]
    if query.object_type is not None:
        parts.append(query.object_type.value)
    return " · ".join(parts)


def heading(query: Stats) -> str:
    """'CDN tasks · 24 h', 'www.example.com · file · 7 d'."""
    return f"{_what(query)} · {period_text(query)}"


def chart_title(report: Report) -> str:
    """The chart's own title, with the period's end on the reader's clock (a picture cannot
    show each reader their own time)."""
    end = report.query.until.astimezone(report.series.tz)
    return f"{heading(report.query)} to {end:%d %b %H:%M}"


def chart_alt(report: Report) -> str:
    """What the chart shows, for screen readers (Slack's alt text)."""
    series, now = report.series, report.current
    totals = [sum(counts) for counts in zip(*(c for _, c in series.counts), strict=True)]
    peak = max(totals, default=0)
    text = (
        f"Stacked bar chart of tasks per {series.per} by status: {now.total:,} tasks, "
        f"{now.count(Status.FAILED):,} failed"
    )
    if peak:
        at = series.start + totals.index(peak) * series.step
        text += f"; the busiest {series.per} ({at.astimezone(series.tz):%d %b %H:%M}) had {peak:,}"
    return text + "."


def _scope(report: Report) -> str:
    parts = []
    if report.query.domain:
        parts.append(f"`domain: {escape(report.query.domain)}`")
    if report.query.object_type is not None:
        parts.append(f"`type: {report.query.object_type.value.lower()}`")
    if report.within and not report.query.domain:
        parts.append(
            "this channel's domains: " + ", ".join(f"`{escape(p)}`" for p in report.within)
        )
    return " · ".join(parts)


def _durations(summary: Summary) -> str:
    found = summary.durations
    if found.median is None or found.p90 is None:
        return "no task completed"
    return f"median {duration_text(found.median)} · p90 {duration_text(found.p90)}"


def _time_change(now: timedelta | None, before: timedelta | None) -> str:
    if now is None or before is None:
        return ""
    change = (now - before).total_seconds()
    if abs(change) < 1:
        return " · same as before"
    sign = "+" if change > 0 else "-"
    return f" · {sign}{duration_text(abs(now - before))} on the median"


def _fields(report: Report) -> list[MarkdownTextObject]:
    now, before = report.current, report.before
    span = period_text(report.query)
    failed = now.count(Status.FAILED)
    rate = rate_change(now.failure_rate, before.failure_rate)
    running = now.running
    fields = [
        f"*Tasks*\n{now.total:,} ({count_change(now.total, before.total, span)})",
        f"*{STATUS_EMOJI[Status.FAILED]} Failed*\n{failed:,} · "
        f"{percent_text(now.failure_rate)} of finished" + (f" ({rate})" if rate else ""),
        f"*{STATUS_EMOJI[Status.COMPLETE]} Complete*\n{now.count(Status.COMPLETE):,}",
        f"*{STATUS_EMOJI[Status.REFRESHING]} Still running*\n{running:,}"
        + (
            f" ({now.count(Status.PENDING):,} pending, {now.count(Status.REFRESHING):,} refreshing)"
            if running
            else ""
        ),
        f"*:stopwatch: Time to complete*\n{_durations(now)}"
        + _time_change(now.durations.median, before.durations.median),
        f"*The {span} before*\n{counted(before.total, 'task')} · "
        f"{before.count(Status.FAILED):,} failed · "
        f"{_durations(before)}",
    ]
    return [MarkdownTextObject(text=field) for field in fields]


def _failures(summary: Summary, *, one_domain: bool) -> str:
    lines = []
    if summary.failing_domains and not one_domain:
        lines.append("*Most failures*")
        lines += [
            f"{place}. `{escape(shorten_middle(domain or '(no host)', 80))}` — {number:,}"
            for place, (domain, number) in enumerate(summary.failing_domains, start=1)
        ]
    if summary.reasons:
        lines.append("*Why they failed*")
        lines.append(
            " · ".join(f"{REASON_LABELS[reason]} {number:,}" for reason, number in summary.reasons)
        )
    return "\n".join(lines)


def chart_note(uploaded: Uploaded | None, *, report: Report, shared: bool, dm: bool) -> str:
    """Where the chart is, or in words why it is not."""
    if report.current.total == 0:
        return ":bar_chart: No chart: no tasks in this period."
    if uploaded is None:
        return ":bar_chart: The chart could not be drawn this time; the numbers above are complete."
    if uploaded.ok:
        where = "above" if shared else ("here" if dm else "in your DM with the bot")
        link = uploaded.permalink
        # The link leads to the DM from wherever the answer was asked; a shared chart is above.
        safe = link and link.startswith("https://") and not set(link) & set("<>| ")
        if safe and not shared and not dm:
            where = f"<{link}|{where}>"
        return f":bar_chart: Chart of tasks per {report.series.per}: {where}."
    words = UPLOAD_WORDS.get(
        uploaded.error or "", f"Slack refused it (`{escape(uploaded.error or '')}`)"
    )
    return f":warning: The chart could not be shared: {words}. The numbers above are complete."


def stats_page(
    report: Report,
    *,
    uploaded: Uploaded | None,
    shared_by: str | None = None,
    dm: bool = False,
) -> Reply:
    """The answer to `/cdn stats`: numbers, the comparison, failures, the chart's whereabouts.

    `shared_by` marks the copy posted to the channel (no buttons); `dm` says the command was
    typed in the person's DM with the bot, where the chart lands too.
    """
    query, now = report.query, report.current
    title = shorten_middle(f"📊 {heading(query)}", HEADER_LIMIT)
    period = f"{slack_date(query.since)} to {slack_date(query.until)}"
    scope = _scope(report)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=title, emoji=True)),
        ContextBlock(
            elements=[MarkdownTextObject(text=" · ".join(p for p in (period, scope) if p))]
        ),
    ]
    if now.total == 0 and report.before.total == 0:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=":mag: No tasks in the history for this period or the one before. "
                    "The bot keeps what it sees from when it first ran; try a longer `since:`."
                )
            )
        )
    else:
        blocks.append(SectionBlock(fields=_fields(report)))
        failures = _failures(now, one_domain=query.domain is not None)
        if failures:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=failures[:SECTION_LIMIT])))
    context = [chart_note(uploaded, report=report, shared=shared_by is not None, dm=dm)]
    if report.before_partial:
        context.append("the history does not reach back over all of the period before")
    if shared_by:
        context.append(f"shared by {mention(shared_by)}")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(context))]))
    if not shared_by and now.total:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Share to channel",
                        action_id=ActionId.SHARE_STATS.value,
                        value=encode_stats(query),
                    )
                ]
            )
        )
    summary = (
        f"{heading(query)}: {counted(now.total, 'task')}, "
        f"{now.count(Status.FAILED):,} failed ({percent_text(now.failure_rate)} of finished), "
        f"time to complete {_durations(now)}"
    )
    return Reply(text=escape(summary)[:TEXT_LIMIT], blocks=tuple(blocks))
