"""Refresh and prefetch as the API takes them: today's quota, a submission's calls, its progress.

A submission goes out call by call, in order; the first refusal stops it, so a person is told
exactly which paths went in and which did not, and nothing is sent past a quota that ran out.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.cdn.client import CdnClient
from bot.cdn.limiter import Priority
from bot.core.submission import Action, CallOutcome, Submission, Submitted
from bot.core.tasks import IDS_PER_LOOKUP, RefreshQuota, Task
from bot.errors import UpstreamError


class Writer:
    """The write side of the CDN API, for the Slack handlers, the progress poller and the CLI."""

    def __init__(self, client: CdnClient) -> None:
        self._client = client

    async def quota(self) -> RefreshQuota:
        """Today's quotas, read now (a write is decided on live numbers, never cached ones)."""
        return await self._client.describe_refresh_quota()

    async def submit(self, submission: Submission) -> Submitted:
        """Send every call of `submission`; stop at the first refusal."""
        outcomes: list[CallOutcome] = []
        failure: UpstreamError | None = None
        for paths in submission.calls():
            if failure is not None:
                outcomes.append(CallOutcome(paths, error=failure, sent=False))
                continue
            try:
                if submission.action is Action.PREFETCH:
                    created = await self._client.push_object_cache(paths, area=submission.area)
                else:
                    created = await self._client.refresh_object_caches(
                        paths, object_type=submission.kind.value, force=submission.force
                    )
            except UpstreamError as error:
                failure = error
                outcomes.append(CallOutcome(paths, request_id=error.request_id, error=error))
            else:
                outcomes.append(CallOutcome(paths, created.task_ids, created.request_id))
        return Submitted(tuple(outcomes))

    async def tasks(self, task_ids: Sequence[str]) -> list[Task]:
        """The current state of these tasks, ten per DescribeRefreshTaskById call, as a
        background caller (people's queries go first)."""
        found: list[Task] = []
        for start in range(0, len(task_ids), IDS_PER_LOOKUP):
            batch = tuple(task_ids[start : start + IDS_PER_LOOKUP])
            page = await self._client.describe_refresh_task_by_id(
                batch, priority=Priority.BACKGROUND
            )
            found += page.tasks
        return found
