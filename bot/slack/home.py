"""The App Home: each person's dashboard, published with views.publish when they open the tab
(at most once per DEBOUNCE each, however often Slack says they did, unless they press
Refresh), and its buttons: New refresh and New prefetch open the form, Failed tasks sends the
failed tasks' pages to the person's DM with the bot, Refresh reads everything again.

A Home is judged like the person's DM with the bot (the channel `app_home_opened` names): the
same rights and domain scope as `/cdn` typed there. Its reads run within the person's share
(bot.slack.admission) and are audited like commands.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from cachetools import LRUCache
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.access import Act
from bot.core.audit import AuditEntry
from bot.core.home import FAILED_ROWS, RUNNING_ROWS, Dashboard, home_queries, newest
from bot.core.query import TaskQuery
from bot.core.submission import Action
from bot.core.tasks import RefreshQuota, Status, TaskPage
from bot.core.watch import Subscription
from bot.errors import NotAllowed
from bot.slack import home_render
from bot.slack.forms import open_form
from bot.slack.postings import MessageReply, NoticeReply
from bot.slack.render import ActionId, Reply
from bot.slack.replies import Services, deliver, id_of, outcome_of, task_reply, words_for

log = logging.getLogger(__name__)
EVENT = "app_home_opened"
# Slack sends app_home_opened every time someone enters the tab (and again on a retry).
DEBOUNCE = timedelta(seconds=10)
QUOTA_KEPT = timedelta(seconds=60)  # what the Home shows; a write always reads it live
_FORMS = {ActionId.HOME_REFRESH_FORM: Action.REFRESH, ActionId.HOME_PREFETCH_FORM: Action.PREFETCH}


class HomeTab:
    """Builds and publishes Homes; remembers when each person's was last built."""

    def __init__(self, services: Services, *, people: int = 10_000) -> None:
        self._services = services
        self._built: LRUCache[str, datetime] = LRUCache(maxsize=people)
        self._building: set[str] = set()
        self._quota: tuple[datetime, RefreshQuota] | None = None

    def due(self, user: str) -> bool:
        """Whether an opened tab gets a fresh Home: not while one is being built, nor within
        DEBOUNCE of the last."""
        last = self._built.get(user)
        return user not in self._building and (
            last is None or self._services.clock() - last >= DEBOUNCE
        )

    async def show(
        self, client: AsyncWebClient, *, user: str, channel: str, entry: AuditEntry, fresh: bool
    ) -> None:
        """Build `user`'s Home within their share and publish it (or what went wrong);
        `fresh` reads past every cache."""
        if user in self._building:
            return
        self._building.add(user)
        self._built[user] = self._services.clock()
        try:
            view = await self._view(user=user, channel=channel, entry=entry, fresh=fresh)
        finally:
            self._building.discard(user)
        # Recorded before the Home is shown, like every reply: the trail never lags behind.
        try:
            await self._services.record(entry)
        except Exception:  # the trail must never cost the person their Home
            log.exception("could not record the audit entry")
        try:
            await client.views_publish(user_id=user, view=view)
        except SlackApiError as exc:
            # not_enabled: the app's Home tab is off (see manifest.yml).
            log.warning("views.publish refused %s's Home: %s", user, exc.response.get("error"))

    async def _view(
        self, *, user: str, channel: str, entry: AuditEntry, fresh: bool
    ) -> dict[str, Any]:
        services = self._services
        try:
            async with services.admission.hold(user):
                dashboard = await self.dashboard(user=user, channel=channel, fresh=fresh)
        except Exception as error:  # the Home says what went wrong, like any reply would
            entry.outcome = outcome_of(error)
            return home_render.problem_view(words_for(error), channel=channel)
        entry.results = dashboard.failed_total
        return home_render.home_view(dashboard, channel=channel)

    async def dashboard(self, *, user: str, channel: str, fresh: bool) -> Dashboard:
        """What `user` may see from their Home, which answers for `channel`."""
        services, policy = self._services, self._services.policy
        groups = await services.people.groups_of(user, policy.groups())
        subscriptions = await self._subscriptions(user, groups)
        now = services.clock()
        if not policy.allows(Act.QUERY, user=user, channel=channel, user_groups=groups):
            refused = NotAllowed(Act.QUERY.value, policy.contact)
            return Dashboard(user, now, refusal=words_for(refused), subscriptions=subscriptions)
        may_submit = services.writer is not None and policy.allows(
            Act.SUBMIT, user=user, channel=channel, user_groups=groups
        )
        scope = policy.scope(channel)
        queries = home_queries(scope, now=now)
        failed, running, quota = await asyncio.gather(
            self._pages(queries.failed, user=user, fresh=fresh),
            self._pages(queries.running, user=user, fresh=fresh),
            self._quota_now(fresh=fresh) if may_submit else _nothing(),
        )
        failed_tasks, failed_total = newest(failed, within=scope, limit=FAILED_ROWS)
        running_tasks, running_total = newest(running, within=scope, limit=RUNNING_ROWS)
        return Dashboard(
            user,
            now,
            scope=tuple(scope),
            skipped=queries.skipped,
            may_submit=may_submit,
            failed=failed_tasks,
            failed_total=failed_total,
            running=running_tasks,
            running_total=running_total,
            quota=quota,
            subscriptions=subscriptions,
        )

    async def _pages(
        self, queries: tuple[TaskQuery, ...], *, user: str, fresh: bool
    ) -> list[TaskPage]:
        find = self._services.find_tasks
        answers = await asyncio.gather(*(find(q, fresh=fresh, caller=user) for q in queries))
        return [answer.page for answer in answers]

    async def _quota_now(self, *, fresh: bool) -> RefreshQuota | None:
        writer, now = self._services.writer, self._services.clock()
        if writer is None:
            return None
        if not fresh and self._quota is not None and now - self._quota[0] < QUOTA_KEPT:
            return self._quota[1]
        quota = await writer.quota()
        self._quota = (now, quota)
        return quota

    async def _subscriptions(
        self, user: str, groups: frozenset[str]
    ) -> tuple[Subscription, ...] | None:
        """The subscriptions of the channels `user` is in and may query in; None when Slack
        will not say which channels those are."""
        services, policy = self._services, self._services.policy
        member_of = await services.people.channels_of(user)
        if member_of is None:
            return None
        return tuple(
            subscription
            for subscription in await services.store.all_subscriptions()
            if subscription.channel_id in member_of
            and policy.allows(
                Act.QUERY, user=user, channel=subscription.channel_id, user_groups=groups
            )
        )


async def _nothing() -> None:
    return None


async def failed_tasks(services: Services, *, entry: AuditEntry) -> Reply:
    """ "Failed tasks": the failed tasks' first page, as `/cdn status:failed` in the DM."""
    await services.allow(TaskQuery, user=entry.user, channel=entry.channel)
    query = services.policy.scoped(TaskQuery(status=Status.FAILED), entry.channel)
    return await task_reply(services, query, entry=entry)


def register(app: AsyncApp, *, services: Services) -> None:
    """Attach the Home: the tab's opening and its buttons."""
    home = HomeTab(services)

    @app.event(EVENT)
    async def opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        user, channel = str(event.get("user", "")), str(event.get("channel", ""))
        if event.get("tab", "home") != "home" or not user or not home.due(user):
            return  # the Messages tab, or a Home shown moments ago
        entry = services.entry("home", user=user, channel=channel, detail=EVENT)
        await home.show(client, user=user, channel=channel, entry=entry, fresh=False)

    @app.action(ActionId.HOME_RELOAD.value)
    async def reload(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user, channel = id_of(body, "user"), home_render.home_channel(body.get("view"))
        entry = services.entry("home", user=user, channel=channel, detail=ActionId.HOME_RELOAD)
        await home.show(client, user=user, channel=channel, entry=entry, fresh=True)

    async def form(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        user, channel = id_of(body, "user"), home_render.home_channel(body.get("view"))
        action_id = ActionId(str(action.get("action_id")))
        entry = services.entry("action", user=user, channel=channel, detail=action_id)
        trigger = str(body.get("trigger_id", ""))
        work = open_form(services, client, _FORMS[action_id], trigger_id=trigger, entry=entry)
        reply = NoticeReply(client, trigger_id=trigger, user=user)
        await deliver(reply, work, services=services, entry=entry)

    for action_id in _FORMS:
        app.action(action_id.value)(form)

    @app.action(ActionId.HOME_FAILED.value)
    async def failed(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user, channel = id_of(body, "user"), home_render.home_channel(body.get("view"))
        entry = services.entry("action", user=user, channel=channel, detail=ActionId.HOME_FAILED)
        # To the DM (a channel only for a Home that names none): where its buttons work.
        reply = MessageReply(client, channel=channel or user)
        await deliver(reply, failed_tasks(services, entry=entry), services=services, entry=entry)
