"""``scslab serve``: Solara's Starlette app behind a guard that checks every request's Host and Origin.

A page the user visits elsewhere could otherwise drive a local dashboard: by opening a websocket from its
own origin (the browser sends ``Origin: http://evil.example``), or by DNS rebinding (its own name made to
resolve to 127.0.0.1, so that the browser sends ``Host: evil.example``). :class:`HostOriginGuard` lets a
request through only when its Host names this server (the loopback names and the address it listens on,
with its port, and the names given with ``--allow-host``) and its Origin, when there is one, names such a
host too. A refused HTTP request gets 403; a refused websocket handshake is closed before it is accepted,
which the server answers with 403.

Solara reads its settings when it is imported, so :func:`serve` sets them first: the app, and a short cull
timeout, so that a session whose page has gone is closed (its run cancelled, its memory freed) within
``CULL_TIMEOUT`` instead of Solara's 24 hours.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import urlsplit

from ..errors import ScslabError

__all__ = ["Allowed", "HostOriginGuard", "allowed_hosts", "serve", "CULL_TIMEOUT", "LOOPBACK"]

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "localhost", "::1")
# how long a session whose page disconnected without closing is kept for a reconnect; then it is closed.
# SOLARA_KERNEL_CULL_TIMEOUT in the environment overrides it.
CULL_TIMEOUT = "20s"
_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


class HostError(ScslabError, ValueError):
    """A Host or Origin value, or an ``--allow-host`` entry, that is not a plain ``name[:port]``."""


def split_authority(authority: str) -> tuple[str, int | None]:
    """``'name:port'``, ``'[::1]:port'`` or ``'name'`` as (lower-case name, port or None).

    Raises :class:`HostError` (with the value) for anything else: a path, user info, a bad port."""
    try:
        parts = urlsplit("//" + authority)
        name, port = parts.hostname, parts.port
    except ValueError:
        raise HostError(f"{authority!r} is not a host name with an optional port") from None
    if not name or "@" in authority or parts.path or parts.query or parts.fragment:
        raise HostError(f"{authority!r} is not a host name with an optional port")
    return name, port


@dataclass(frozen=True)
class Allowed:
    """The hosts a server answers to: ``(name, port)`` pairs, where a port of None means any port."""

    pairs: frozenset[tuple[str, int | None]]

    def admits(self, authority: str, default_port: int) -> bool:
        """Whether ``authority`` (a Host header's value, or an origin's) names one of these hosts."""
        try:
            name, port = split_authority(authority)
        except HostError:
            return False
        return (name, port or default_port) in self.pairs or (name, None) in self.pairs

    def admits_origin(self, origin: str) -> bool:
        """Whether ``origin`` (``scheme://host[:port]``, as a browser sends it) is one of these hosts."""
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or parts.path or parts.query or parts.fragment:
            return False
        return self.admits(parts.netloc, _DEFAULT_PORTS[parts.scheme])


def allowed_hosts(host: str, port: int, extra: Iterable[str] = ()) -> Allowed:
    """The loopback names and ``host`` on ``port``, plus each ``extra`` entry (``name`` for any port,
    ``name:port`` for one). Raises :class:`HostError` for an entry that is not a host name."""
    pairs = {(name, port) for name in LOOPBACK}
    pairs.add((host.strip().strip("[]").lower(), port))  # --host ::1 or [::1] alike
    for entry in extra:
        pairs.add(split_authority(entry.strip()))
    return Allowed(frozenset(pairs))


class HostOriginGuard:
    """ASGI middleware: HTTP requests and websocket handshakes whose Host, or whose Origin when one is
    sent, is not ``allowed`` are refused with 403 before they reach ``app``. Other scopes (lifespan) pass."""

    def __init__(self, app, allowed: Allowed):
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            why = self.refusal(scope)
            if why is not None:
                log.warning("refused %s %s: %s", scope["type"], scope.get("path", ""), why)
                await _refuse(scope, send)
                return
        await self.app(scope, receive, send)

    def refusal(self, scope) -> str | None:
        """Why the request in ``scope`` is refused, or None when it may pass."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        host = headers.get("host")
        if host is None or not self.allowed.admits(host, _DEFAULT_PORTS.get(scope.get("scheme", "http"), 80)):
            return f"Host {host!r} is not allowed"
        origin = headers.get("origin")  # browsers send it with every websocket and every cross-site request
        if origin is not None and not self.allowed.admits_origin(origin):
            return f"Origin {origin!r} is not allowed"
        return None


async def _refuse(scope, send) -> None:
    if scope["type"] == "websocket":  # closed before it is accepted: the handshake is answered with 403
        await send({"type": "websocket.close", "code": 1008})
        return
    body = b"Forbidden: this server answers to its own host only (scslab serve --allow-host adds names).\n"
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def guarded_app(allowed: Allowed):
    """Solara's Starlette app for the dashboard behind :class:`HostOriginGuard`, with the cull timeout set.

    Must run before anything imports Solara's server (its settings are read at import)."""
    os.environ["SOLARA_APP"] = "scslab.app.dashboard"
    os.environ.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", CULL_TIMEOUT)
    import solara.server.settings
    import solara.server.starlette

    solara.server.settings.kernel.cull_timeout = os.environ["SOLARA_KERNEL_CULL_TIMEOUT"]
    from . import dashboard  # noqa: F401  imported now, so its hook on each session's close is there for the first

    return HostOriginGuard(solara.server.starlette.app, allowed)


def serve(host: str, port: int, allowed: Allowed) -> None:
    """Serve the dashboard on ``host:port`` until interrupted; requests for hosts not ``allowed`` (see
    :func:`allowed_hosts`) are refused."""
    import uvicorn

    uvicorn.run(guarded_app(allowed), host=host, port=port, log_level="warning")
