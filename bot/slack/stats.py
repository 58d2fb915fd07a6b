"""`/cdn stats`: a period's numbers from the task history, answered privately, with the chart
uploaded where the person can see it (their DM with the bot); "Share to channel" posts the
chart and the numbers in the channel. A chart that cannot be drawn or shared is said in words;
the numbers always come."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from bot.core.audit import AuditEntry
from bot.core.query import Stats
from bot.core.stats import Report, decode_stats, encode_stats, period_before, report, stats_scope
from bot.slack.chart import Chart
from bot.slack.render import Reply, escape, mention
from bot.slack.replies import Services
from bot.slack.stats_render import chart_alt, chart_title, heading, stats_page
from bot.slack.uploads import Uploaded

log = logging.getLogger(__name__)
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{1,20}")


async def stats_reply(
    services: Services, query: Stats, *, entry: AuditEntry, shared: bool = False
) -> Reply:
    """The answer to `query` asked by `entry.user` in `entry.channel`, within the channel's
    domains; the chart goes to the person's DM, or to the channel when `shared`."""
    user, channel = entry.user, entry.channel
    within = stats_scope(services.policy, query, channel)
    tz = await services.people.timezone(user)
    start, _ = period_before(query)
    records = await services.store.archived_between(
        start, query.until, domain=query.domain, object_type=query.object_type
    )
    found = report(
        records,
        query,
        within=within,
        tz=tz,
        kept_since=services.clock() - timedelta(days=services.kept_days),
    )
    entry.query = encode_stats(query)
    entry.results = found.current.total
    uploaded = await share_chart(services, found, user=user, channel=channel, shared=shared)
    return stats_page(
        found,
        uploaded=uploaded,
        shared_by=user if shared else None,
        dm=channel.startswith("D"),
    )


async def share_chart(
    services: Services, found: Report, *, user: str, channel: str, shared: bool
) -> Uploaded | None:
    """Draw the chart and upload it: into `channel` when `shared`, else into `user`'s DM with
    the bot. None when there is nothing to draw, or it could not be drawn."""
    if found.current.total == 0:
        return None
    title = chart_title(found)
    try:
        png = await services.charts.png(Chart(found.series, title))
    except Exception:
        log.exception("could not draw the stats chart")
        return None
    if services.files is None:
        return Uploaded(channel, error="no_uploads")
    where = f" in <#{channel}>" if _CHANNEL_ID.fullmatch(channel) else ""
    if shared:
        comment = f":bar_chart: {escape(heading(found.query))}, shared by {mention(user)}"
    else:
        comment = f":bar_chart: {escape(heading(found.query))}, from `/cdn stats`{where}"
    return await services.files.upload(
        png,
        channel=channel if shared else None,
        user=None if shared else user,
        filename=f"cdn-stats-{found.query.until:%Y%m%d-%H%M}.png",
        title=title,
        alt_text=chart_alt(found),
        comment=comment,
    )


async def share(services: Services, action: dict[str, Any], *, entry: AuditEntry) -> Reply:
    """ "Share to channel" on a stats reply: the same period's numbers and chart, posted in the
    channel, attributed to whoever shared them."""
    # Before the value is read: a refusal tells nothing of it.
    await services.allow(Stats, user=entry.user, channel=entry.channel)
    query = decode_stats(str(action.get("value", "")), kept_days=services.kept_days)
    return await stats_reply(services, query, entry=entry, shared=True)
