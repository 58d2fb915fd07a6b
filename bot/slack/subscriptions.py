"""`/cdn subscribe`, `unsubscribe` and `subscriptions` for the channel they are typed in."""

from __future__ import annotations

from bot.core.access import Act
from bot.core.query import ListSubscriptions, Subscribe, Unsubscribe
from bot.core.watch import Subscription
from bot.slack import alerts
from bot.slack.render import Reply
from bot.slack.replies import Services


async def manage(
    services: Services,
    command: Subscribe | Unsubscribe | ListSubscriptions,
    *,
    channel_id: str,
    user_id: str,
) -> Reply:
    """Carry out a subscription command and say what it did."""
    services.policy.placed(channel_id, Act.MANAGE.value)
    store = services.store
    if isinstance(command, ListSubscriptions):
        return alerts.subscriptions_list(await store.subscriptions(channel_id))
    if isinstance(command, Unsubscribe):
        removed = await store.unsubscribe(
            channel_id, command.domain, command.object_type, everything=command.everything
        )
        return alerts.unsubscribed(removed, await store.subscriptions(channel_id))
    wanted = Subscription(
        channel_id=channel_id,
        domain=command.domain,
        object_type=command.object_type,
        added_by=user_id,
        added_at=services.clock(),
    )
    existing = [
        sub
        for sub in await store.subscriptions(channel_id)
        if (sub.domain, sub.object_type) == (wanted.domain, wanted.object_type)
    ]
    if existing and not existing[0].unreachable:
        return alerts.subscribed(existing[0], created=False)
    # Announcing it in the channel tells everyone there, and proves the bot may post there.
    outcome = await services.notifier.post(channel_id, alerts.channel_announcement(wanted))
    if outcome.unreachable:
        return alerts.cannot_post(outcome.unreachable)
    created = await store.subscribe(wanted)
    return alerts.subscribed(existing[0] if existing else wanted, created=created)
