"""Who may do what, and which domains a channel may see: the access policy, decided purely.

Everything is open by default: queries for everyone, subscriptions for anyone who may query, in
the channel they are made in. Operators narrow it with allow-lists of users, channels and user
groups, and may limit a channel to some domains (then its queries and notifications never show
other domains).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from bot.core.query import (
    Command,
    Help,
    ListSubscriptions,
    ShowAudit,
    Stats,
    Subscribe,
    TaskQuery,
    Unmute,
    Unsubscribe,
    Write,
)
from bot.core.tasks import domain_matches, host_of
from bot.errors import NotAllowed

AUDIT_KEPT = timedelta(days=90)
_NO_CHANNEL = "This request names no channel: run the command in a channel or a DM."


class Act(StrEnum):
    """What someone wants to do, in the words a denial uses."""

    QUERY = "query CDN tasks"
    MANAGE = "manage failure notifications"
    AUDIT = "read the audit trail"
    # Checked against the manage list: a write changes what the CDN serves.
    SUBMIT = "refresh or prefetch CDN content"


@dataclass(frozen=True)
class Mute:
    """Silence failure notifications of `domain` in the channel for a while (a button)."""

    domain: str


Request = Command | Mute

# What each request needs. Whatever shows task data or sends it somewhere (a subscription
# delivers failures, paths and reasons; a mute shapes that stream) needs query rights, so an
# open manage list never lets someone refused every query read tasks another way.
NEEDS: Mapping[type[Request], tuple[Act, ...]] = {
    Help: (),
    TaskQuery: (Act.QUERY,),
    ListSubscriptions: (Act.QUERY,),
    Subscribe: (Act.QUERY, Act.MANAGE),
    Unsubscribe: (Act.QUERY, Act.MANAGE),
    Mute: (Act.QUERY, Act.MANAGE),
    Unmute: (Act.QUERY, Act.MANAGE),
    ShowAudit: (Act.AUDIT,),
    Stats: (Act.QUERY,),
    Write: (Act.QUERY, Act.SUBMIT),
}


def needs(request: Request | type[Request]) -> tuple[Act, ...]:
    """The acts `request` needs, checked in this order (the first refused is the one named).
    A kind of request stands for any of its kind: a button is checked before its value is read,
    so a refusal tells nothing of what the value held."""
    return NEEDS[request if isinstance(request, type) else type(request)]


@dataclass(frozen=True)
class Allow:
    """An allow-list; an empty one lets everyone through (unless `closed`)."""

    users: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    closed: bool = False  # empty means nobody, not everybody (admins)

    @property
    def everyone(self) -> bool:
        """Whether anyone at all passes."""
        return not (self.users or self.channels or self.groups or self.closed)

    def admits(self, user: str, channel: str, user_groups: frozenset[str]) -> bool:
        """Whether `user`, asking in `channel`, is on the list."""
        return (
            self.everyone
            or user in self.users
            or channel in self.channels
            or bool(self.groups & user_groups)
        )


@dataclass(frozen=True)
class Policy:
    """The whole access policy of a workspace."""

    query: Allow = Allow()
    manage: Allow = Allow()
    admin: Allow = Allow(closed=True)
    contact: str = "the bot's operator"
    scopes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # How long the audit trail keeps what was done: by age, so no burst of cheap commands
    # can push an action out of it.
    audit_kept: timedelta = AUDIT_KEPT

    def groups(self) -> frozenset[str]:
        """Every user group the policy names (their members must be looked up)."""
        return self.query.groups | self.manage.groups | self.admin.groups

    def _list(self, act: Act) -> Allow:
        return {
            Act.QUERY: self.query,
            Act.MANAGE: self.manage,
            Act.SUBMIT: self.manage,
            Act.AUDIT: self.admin,
        }[act]

    def check(self, act: Act, *, user: str, channel: str, user_groups: frozenset[str]) -> None:
        """Raise NotAllowed unless the policy lets `user` do `act` in `channel`."""
        self.placed(channel, act.value)
        if not self._list(act).admits(user, channel, user_groups):
            raise NotAllowed(act.value, self.contact)

    def allows(self, act: Act, *, user: str, channel: str, user_groups: frozenset[str]) -> bool:
        """Whether `check` would let `user` do `act` in `channel`."""
        return bool(channel.strip()) and self._list(act).admits(user, channel, user_groups)

    def check_person(self, act: Act, *, user: str, user_groups: frozenset[str]) -> None:
        """Raise NotAllowed unless the list for `act` lets `user` in by name or user group
        (or lets everyone in): for a request made in no channel, which no channel on the list
        can admit (a Workflow Builder step given no channel)."""
        allow = self._list(act)
        if not (allow.everyone or user in allow.users or allow.groups & user_groups):
            raise NotAllowed(
                act.value,
                self.contact,
                detail="Without a channel, only the people and user groups on the list may.",
            )

    def may_somewhere(self, act: Act, *, user: str, user_groups: frozenset[str]) -> bool:
        """Whether some channel could let `user` do `act`: asked before a form that picks
        its channel later (the global shortcut), so nobody fills one in only to be refused."""
        allow = self._list(act)
        return allow.admits(user, "", user_groups) or bool(allow.channels)

    def placed(self, channel: str, what: str) -> None:
        """Raise NotAllowed when a request names no channel: channel lists, scopes and
        subscriptions all hang on it, so a blank one must never read as "any" or "all"."""
        if not channel.strip():
            raise NotAllowed(what, self.contact, detail=_NO_CHANNEL)

    def scope(self, channel: str) -> tuple[str, ...]:
        """The domain patterns `channel` is limited to; empty when it is not limited."""
        return tuple(self.scopes.get(channel, ()))

    def scoped(self, query: TaskQuery, channel: str) -> TaskQuery:
        """`query` as `channel` may run it: within its domains, or refused with what to add."""
        self.placed(channel, Act.QUERY.value)
        patterns = self.scope(channel)
        if not patterns:
            return query
        listed = ", ".join(f"`{pattern}`" for pattern in patterns)
        hosts = [h for h in (query.domain, query.object_path and host_of(query.object_path)) if h]
        for host in hosts:
            if not any(domain_matches(pattern, host) for pattern in patterns):
                raise NotAllowed(
                    f"see tasks of {host}", self.contact, detail=f"This channel sees {listed}."
                )
        if hosts or query.task_ids:
            return query.model_copy(update={"within": patterns})
        exact = [pattern for pattern in patterns if not pattern.startswith("*.")]
        if len(patterns) == 1 and exact:
            return query.model_copy(update={"domain": exact[0], "within": patterns})
        example = patterns[0].removeprefix("*.")
        raise NotAllowed(
            "query every domain",
            self.contact,
            detail=f"This channel sees {listed}: add one, like `domain:{example}`.",
        )

    def may_watch(self, channel: str, domain: str | None) -> None:
        """Raise NotAllowed unless a subscription to `domain` stays within the channel's scope."""
        self.placed(channel, Act.MANAGE.value)
        patterns = self.scope(channel)
        if not patterns or (domain and any(_covers(p, domain) for p in patterns)):
            return
        listed = ", ".join(f"`{pattern}`" for pattern in patterns)
        raise NotAllowed(
            f"subscribe to {domain or 'every domain'}",
            self.contact,
            detail=f"This channel sees {listed}: subscribe to one of them.",
        )

    def submission_refusal(self, channel: str, domains: Iterable[str]) -> NotAllowed | None:
        """Why `channel` may not refresh or prefetch `domains` (some lie outside its scope),
        naming the domains it may; None when it may."""
        if not channel.strip():
            return NotAllowed(Act.SUBMIT.value, self.contact, detail=_NO_CHANNEL)
        patterns = self.scope(channel)
        outside = [d for d in domains if not any(domain_matches(p, d) for p in patterns)]
        if not patterns or not outside:
            return None
        listed = ", ".join(f"`{pattern}`" for pattern in patterns)
        return NotAllowed(
            f"refresh or prefetch {', '.join(sorted(outside))}",
            self.contact,
            detail=f"This channel may refresh or prefetch {listed} only.",
        )

    def may_submit(self, channel: str, domains: Iterable[str]) -> None:
        """Raise NotAllowed unless every one of `domains` lies within `channel`'s scope."""
        refusal = self.submission_refusal(channel, domains)
        if refusal is not None:
            raise refusal


def _covers(pattern: str, wanted: str) -> bool:
    """Whether everything `wanted` (a domain, or `*.x`) names lies within `pattern`."""
    if not wanted.startswith("*."):
        return domain_matches(pattern, wanted)
    base = wanted[2:]
    return pattern.startswith("*.") and domain_matches(pattern, base)
