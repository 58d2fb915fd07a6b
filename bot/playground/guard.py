"""Who may use the playground: requests for its own address, from its own page, with its token.

Any web page the operator visits can make the browser send requests here (cross-site forms and
fetches, DNS rebinding). These checks refuse them and leave the page, the bot and Slack's
/slack/events alone.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

TOKEN_HEADER = "X-Playground-Token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) can only be reached from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _host_and_port(value: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(f"//{value}")
        name, port = parts.hostname, parts.port or 80
    except ValueError:
        return None
    return (name, port) if name else None


class Guard:
    """The checks for one playground listening at `base_url`."""

    def __init__(self, base_url: str, *, token: str, public: bool = False) -> None:
        listening = _host_and_port(urlsplit(base_url).netloc)
        assert listening is not None, base_url
        self._name, self._port = listening
        self._token = token
        self._public = public

    def host_allowed(self, host: str) -> bool:
        """A rebound DNS name carries the attacker's name in Host: only our own names pass."""
        found = _host_and_port(host)
        if found is None or found[1] != self._port:
            return False
        name = found[0]
        if name == self._name:
            return True
        if is_loopback(self._name):
            return is_loopback(name)
        if self._public and self._name in ("0.0.0.0", "::"):
            # Listening everywhere: any of this machine's addresses, typed as a number, or its
            # own name. No one else's DNS name can point here with that Host.
            return _is_address(name) or name == socket.gethostname().lower()
        return False

    def _refusal(self, request: web.Request, *, page_call: bool) -> web.Response | None:
        if not self.host_allowed(request.host):
            return web.Response(status=403, text="this playground answers only at its own address")
        if not page_call:
            return None
        origin = request.headers.get("Origin")
        fetch_site = request.headers.get("Sec-Fetch-Site", "same-origin")
        if fetch_site not in ("same-origin", "none") or (
            origin is not None and origin.lower() != f"http://{request.host.lower()}"
        ):
            return web.Response(status=403, text="only the playground's own page may call this")
        if request.method != "GET":
            if origin is None:
                return web.Response(status=403, text="an Origin header is required")
            if request.content_type != "application/json":
                return web.Response(status=415, text="send JSON")
        token = request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(token.encode(), self._token.encode()):
            return web.Response(status=403, text="the playground's token is missing or wrong")
        return None

    def guarded(self, handler: Handler, *, page_call: bool = False) -> Handler:
        """`handler` behind the checks: the Host for every route, and for the page's own calls
        (`page_call`) also a same-origin request with the per-run token (and JSON when posting)."""

        async def checked(request: web.Request) -> web.StreamResponse:
            refusal = self._refusal(request, page_call=page_call)
            return refusal if refusal is not None else await handler(request)

        return checked
