"""Login with an API token, logout, and the look-up forms of the header."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.addresses import normalize_address
from api.console.deps import PostUser, SessionsDep, User, render
from api.console.session import (
    CONSOLE_ROLES,
    LOGIN_COOKIE,
    MAX_AGE_S,
    SESSION_COOKIE,
    ConsoleError,
    set_cookie,
)
from api.deps import Svc
from api.throttle import client_key
from api.tokens import hash_token

log = logging.getLogger(__name__)
router = APIRouter(prefix="/console", include_in_schema=False)


def _next(target: str) -> str:
    """Only a console path: never an open redirect to another site."""
    ok = target.startswith("/console/") and not target.startswith("//") and "\\" not in target
    return target if ok else "/console/addresses"


@router.get("", response_class=RedirectResponse)
@router.get("/", response_class=RedirectResponse)
def home() -> RedirectResponse:
    return RedirectResponse("/console/addresses", 303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, store: SessionsDep, next: str = "") -> Response:
    nonce = store.login_nonce(request)
    response = render(request, "login.html", None, csrf=store.login_csrf(nonce),
                      next=_next(next))
    set_cookie(response, request, LOGIN_COOKIE, nonce, 3600)
    return response


@router.post("/login")
def login(request: Request, store: SessionsDep, services: Svc,
          token: Annotated[str, Form(max_length=500)] = "",
          csrf_token: Annotated[str, Form(max_length=200)] = "",
          next: Annotated[str, Form(max_length=500)] = "") -> Response:
    store.check_login_csrf(request, csrf_token)
    throttle = request.app.state.login_throttle
    client = client_key(request)
    throttle.check(client)
    principal = services.tokens.authenticate(token.strip()) if token.strip() else None
    if principal is None:
        throttle.failed(client)
        log.warning("console login with an unknown token from %s", client)
        nonce = store.login_nonce(request)
        return render(request, "login.html", None, 401, csrf=store.login_csrf(nonce),
                      next=_next(next), error="That token is not valid. Paste a whole API "
                      "token (it starts with bl_).")
    if principal.role not in CONSOLE_ROLES:
        raise ConsoleError(403, "Not a console token",
                           f"The token {principal.name!r} has the {principal.role} role, which "
                           "cannot use the console; use a viewer, operator or admin token.")
    throttle.succeeded(client)
    response = RedirectResponse(_next(next), 303)
    set_cookie(response, request, SESSION_COOKIE,
               store.issue(principal, hash_token(token.strip())), MAX_AGE_S)
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


@router.post("/logout")
def logout(request: Request, store: SessionsDep, _: PostUser) -> Response:
    """Ends the session on the server: the cookie, even if kept, no longer logs anyone in."""
    store.end(request)
    response = RedirectResponse("/console/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


@router.get("/lookup")
def lookup(_: User, address: str = "", profile: str = "") -> Response:
    """The header's "open an address / a profile" forms."""
    if profile.strip():
        return RedirectResponse(f"/console/profiles/{quote(profile.strip(), safe='')}", 303)
    if not address.strip():
        return RedirectResponse("/console/addresses", 303)
    return RedirectResponse(f"/console/addresses/{quote(normalize_address(address), safe='@')}",
                            303)
