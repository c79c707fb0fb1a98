"""The admin console under ``/console``: server-rendered Jinja2 pages, one stylesheet, no
script. Sessions come from logging in with an API token (``api/console/session.py``)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.console import address_routes, auth_routes, hook_routes, other_routes
from api.console.deps import render
from api.console.session import LoginThrottle
from api.settings import Settings

SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
     b"frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


class ConsoleHeaders:
    """Adds the security headers to every ``/console`` answer (plain ASGI: no cost elsewhere)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/console"):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in SECURITY_HEADERS if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, with_headers)


def is_console(request: Request) -> bool:
    return request.url.path.startswith("/console")


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    """An HTML error page for console requests (API paths keep the JSON shape)."""
    if status == 401:
        return login_redirect(request)
    return render(request, "error.html", None, status, title=title, message=message)


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    suffix = f"?next={quote(target, safe='')}" if request.method == "GET" else ""
    return RedirectResponse(f"/console/login{suffix}", 303)


def install_console(app: FastAPI, settings: Settings) -> None:
    app.state.console_key = settings.session_key()
    app.state.login_throttle = LoginThrottle()
    app.mount("/console/static", StaticFiles(directory=Path(__file__).parent / "static"),
              name="console-static")
    for module in (auth_routes, address_routes, other_routes, hook_routes):
        app.include_router(module.router)
    app.add_middleware(ConsoleHeaders)
