"""The emulator's HTTP server (aiohttp): gateway checks, per-action rate limits, then the action.

Run it in the current event loop (`start`/`stop`) or in a thread of its own (`running`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.sax.saxutils import escape as xml_escape

from aiohttp import web

from bot.cdn.emulator import actions
from bot.cdn.emulator.chaos import FaultPlan, injected
from bot.cdn.emulator.demo import seed_history
from bot.cdn.emulator.faults import ApiFault, denied, throttled
from bot.cdn.emulator.gateway import Account, Gateway, Incoming
from bot.cdn.emulator.ledger import Ledger, matches_fail_pattern
from bot.cdn.limiter import DOCUMENTED_RATES

HOST_ID = "cdn.aliyuncs.com"


@dataclass
class EmulatorConfig:
    """What the emulator is started with (the `python -m bot emulator` flags)."""

    access_key_id: str = "emulator-key"
    access_key_secret: str = field(default="emulator-secret", repr=False)
    security_token: str | None = field(default=None, repr=False)
    qps: float = 10.0  # DescribeRefreshTasks per second; 0 turns every limit off
    task_seconds: float = 30.0
    fail_pattern: str | None = None
    seed: int = 0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    faults: FaultPlan = field(default_factory=FaultPlan)
    # Actions the key's RAM policy does not allow: answered with Forbidden.RAM.
    denied_actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Call:
    """One request that reached an action (or was throttled there), for tests and benchmarks."""

    at: float
    action: str
    nonce: str
    signature_version: str
    code: str
    params: Mapping[str, str] = field(default_factory=dict)


class _Bucket:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = max(rate, 1.0)
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(max(self.rate, 1.0), self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Emulator:
    """A faithful local CDN API: signatures, limits, validation and a live task ledger."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.clock = self.config.clock
        self.ledger = Ledger(
            task_seconds=self.config.task_seconds,
            fail_pattern=matches_fail_pattern(self.config.fail_pattern),
        )
        if self.config.seed:
            seed_history(self.ledger, self.config.seed, now=self.clock())
        self.gateway = Gateway(
            [
                Account(
                    self.config.access_key_id,
                    self.config.access_key_secret,
                    self.config.security_token,
                )
            ],
            clock=self.clock,
        )
        self.calls: list[Call] = []
        self.faults_injected: dict[str, int] = {}
        self._scripted: dict[str, list[ApiFault]] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- test hooks --------------------------------------------------------------------------

    def script(self, action: str, *faults: ApiFault) -> None:
        """Answer the next calls of `action` with these faults, one per call, then as usual."""
        self._scripted.setdefault(action, []).extend(faults)

    def calls_of(self, action: str) -> list[Call]:
        """Every call of `action` that passed the gateway."""
        return [call for call in self.calls if call.action == action]

    # -- HTTP --------------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application serving the API at `/`."""
        # Push puts up to 100 URLs in the query string: the real gateway takes long lines.
        limits = {"max_line_size": 256 * 1024, "max_field_size": 256 * 1024}
        application = web.Application(handler_args=limits)
        application.router.add_route("*", "/", self._handle)
        return application

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        plan = self.config.faults
        if plan.latency_ms:
            await asyncio.sleep(plan.latency_ms / 1000)
        kind = plan.draw()
        if kind is not None:
            self.faults_injected[kind] = self.faults_injected.get(kind, 0) + 1
            answer = await injected(kind, request, plan)
            if answer is not None:
                return answer
        request_id = str(uuid.uuid4()).upper()
        # V1 callers may ask for XML with Format=XML; everything else answers JSON.
        xml_root = None
        if request.query.get("Format", "").upper() == "XML":
            xml_root = f"{request.query.get('Action', '')}Response"
        try:
            body = await self._answer(request)
        except ApiFault as fault:
            payload = {
                "RequestId": request_id,
                "HostId": HOST_ID,
                "Code": fault.code,
                "Message": fault.message,
                "Recommend": f"https://api.aliyun.com/troubleshoot?q={fault.code}&product=Cdn",
            }
            if xml_root:
                return _xml_response("Error", payload, status=fault.status)
            return _json_response(payload, status=fault.status)
        if xml_root:
            return _xml_response(xml_root, {**body, "RequestId": request_id}, status=200)
        return _json_response({"RequestId": request_id, **body}, status=200)

    async def _answer(self, request: web.Request) -> dict[str, object]:
        raw = await request.read()
        form: dict[str, str] = {}
        if request.content_type == "application/x-www-form-urlencoded" and raw:
            form = {name: str(value) for name, value in (await request.post()).items()}
        incoming = Incoming(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            form=form,
            headers={name.lower(): value for name, value in request.headers.items()},
            body=raw,
        )
        admitted = self.gateway.admit(incoming)
        handler = actions.ACTIONS.get(admitted.action)
        if handler is None:
            raise ApiFault(
                404,
                "InvalidAction.NotFound",
                "Specified api is not found, please check your url and method.",
            )
        code = ""
        try:
            if admitted.action in self.config.denied_actions:
                raise denied(admitted.action)
            if not self._within_rate(admitted.action):
                raise throttled()
            scripted = self._scripted.get(admitted.action)
            if scripted:
                raise scripted.pop(0)
            return handler(self.ledger, admitted.params, self.clock())
        except ApiFault as fault:
            code = fault.code
            raise
        finally:
            self.calls.append(
                Call(
                    time.monotonic(),
                    admitted.action,
                    admitted.nonce,
                    admitted.signature_version,
                    code,
                    admitted.params,
                )
            )

    def _within_rate(self, action: str) -> bool:
        if self.config.qps <= 0:
            return True
        bucket = self._buckets.get(action)
        if bucket is None:
            rate = self.config.qps if action == "DescribeRefreshTasks" else DOCUMENTED_RATES[action]
            bucket = self._buckets[action] = _Bucket(rate)
        return bucket.take()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0 picks a free port) in this loop; returns the base URL."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.url = f"http://{host}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @contextlib.contextmanager
    def running(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[Emulator]:
        """Serve from a thread with its own event loop, for synchronous callers (the SDKs)."""
        loop = asyncio.new_event_loop()
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start(host, port))
            started.set()
            loop.run_forever()

        thread = threading.Thread(target=serve, name="cdn-emulator", daemon=True)
        thread.start()
        started.wait()
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result()
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()


def _json_response(payload: Mapping[str, object], *, status: int) -> web.Response:
    return web.Response(
        body=json.dumps(payload, ensure_ascii=False).encode(),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


def _xml_elements(name: str, value: object) -> Iterator[str]:
    # A list is its element repeated, as in the API's XML answers.
    if isinstance(value, list):
        for item in value:
            yield from _xml_elements(name, item)
    elif isinstance(value, Mapping):
        inner = "".join(part for key, item in value.items() for part in _xml_elements(key, item))
        yield f"<{name}>{inner}</{name}>"
    else:
        yield f"<{name}>{xml_escape(str(value))}</{name}>"


def _xml_response(root: str, payload: Mapping[str, object], *, status: int) -> web.Response:
    document = '<?xml version="1.0" encoding="UTF-8"?>' + "".join(_xml_elements(root, payload))
    return web.Response(
        body=document.encode(), status=status, content_type="text/xml", charset="utf-8"
    )
