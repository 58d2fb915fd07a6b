"""`/cdn subscribe` (with `stuck:off`), `unsubscribe`, `subscriptions` and `unmute` for the
channel they are typed in; what changes what the channel hears is also announced there."""

from __future__ import annotations

from dataclasses import replace

from bot.core.access import Act
from bot.core.query import ListSubscriptions, Subscribe, Unmute, Unsubscribe
from bot.core.watch import Subscription
from bot.slack import alerts
from bot.slack.render import Reply
from bot.slack.replies import Services


async def manage(
    services: Services,
    command: Subscribe | Unsubscribe | Unmute | ListSubscriptions,
    *,
    channel_id: str,
    user_id: str,
) -> Reply:
    """Carry out a subscription command and say what it did."""
    services.policy.placed(channel_id, Act.MANAGE.value)
    store = services.store
    if isinstance(command, ListSubscriptions):
        return alerts.subscriptions_list(
            await store.subscriptions(channel_id), await store.mutes(channel_id, services.clock())
        )
    if isinstance(command, Unmute):
        return await unmute(services, command.domain, channel_id=channel_id, user_id=user_id)
    if isinstance(command, Unsubscribe):
        before = await store.subscriptions(channel_id)
        await store.unsubscribe(
            channel_id, command.domain, command.object_type, everything=command.everything
        )
        remaining = await store.subscriptions(channel_id)
        removed = [sub for sub in before if sub not in remaining]
        if removed:
            await services.notifier.post(
                channel_id, alerts.unsubscribe_announcement(removed, user_id)
            )
        return alerts.unsubscribed(removed, remaining)
    wanted = Subscription(
        channel_id=channel_id,
        domain=command.domain,
        object_type=command.object_type,
        added_by=user_id,
        added_at=services.clock(),
        stuck=command.stuck,
    )
    current = await store.subscriptions(channel_id)
    existing = [
        sub
        for sub in current
        if (sub.domain, sub.object_type) == (wanted.domain, wanted.object_type)
    ]
    if existing and not existing[0].unreachable:
        if existing[0].stuck == wanted.stuck:
            return alerts.subscribed(existing[0], created=False)
        return await _switch_stuck(services, replace(existing[0], stuck=wanted.stuck), user_id)
    # Announcing it in the channel tells everyone there, and proves the bot may post there.
    outcome = await services.notifier.post(channel_id, alerts.channel_announcement(wanted))
    if outcome.unreachable:
        return alerts.cannot_post(outcome.unreachable)
    created = await store.subscribe(wanted)
    return alerts.subscribed(
        replace(existing[0], stuck=wanted.stuck) if existing else wanted,
        created=created,
        overlapping=alerts.overlaps(wanted, current),
    )


async def _switch_stuck(services: Services, changed: Subscription, user_id: str) -> Reply:
    """Turn a subscription's stuck-task notices on or off, and say so in the channel."""
    channel_id = changed.channel_id
    announcement = alerts.stuck_switch_announcement(changed, by=user_id)
    outcome = await services.notifier.post(channel_id, announcement)
    if outcome.unreachable:
        return alerts.cannot_post(outcome.unreachable)
    await services.store.subscribe(changed)
    return alerts.stuck_switched(changed)


async def unmute(services: Services, domain: str | None, *, channel_id: str, user_id: str) -> Reply:
    """Lift the channel's mute of `domain` (None: all of them) and tell the channel."""
    services.policy.placed(channel_id, Act.MANAGE.value)
    lifted = await services.store.unmute(channel_id, domain)
    if lifted:
        await services.notifier.post(channel_id, alerts.unmute_announcement(lifted, by=user_id))
    return alerts.unmuted(lifted, asked=domain)
