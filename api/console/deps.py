"""Console plumbing: templates, the logged-in user, role and CSRF checks, rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.console.session import ConsoleError, ConsoleUser, Sessions
from api.console.wording import (
    ALERT_ADVICE,
    CLASS_LABELS,
    SENDER_CLASS_LABELS,
    STATUS_LABELS,
    when,
)
from api.deps import Svc

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["when"] = when
templates.env.globals["STATUS_LABELS"] = STATUS_LABELS
templates.env.globals.update(CLASS_LABELS=CLASS_LABELS, SENDER_CLASS_LABELS=SENDER_CLASS_LABELS,
                             ALERT_ADVICE=ALERT_ADVICE)


def sessions(request: Request, services: Svc) -> Sessions:
    return Sessions(request.app.state.console_key, services.tokens)


SessionsDep = Annotated[Sessions, Depends(sessions)]


def current_user(request: Request, store: SessionsDep) -> ConsoleUser:
    return store.user(request)


User = Annotated[ConsoleUser, Depends(current_user)]


def checked_user(store: SessionsDep, user: User,
                 csrf_token: Annotated[str, Form(max_length=200)] = "") -> ConsoleUser:
    """The user of a POST whose form carried this session's CSRF token."""
    store.check_csrf(user, csrf_token)
    return user


PostUser = Annotated[ConsoleUser, Depends(checked_user)]


def require(user: ConsoleUser, role: str, what: str) -> None:
    if not user.may(role):
        raise ConsoleError(403, "Not allowed",
                           f"{what} needs the {role} role; you are logged in as "
                           f"{user.name} ({user.role}).")


def render(request: Request, name: str, user: ConsoleUser | None, code: int = 200,
           **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"user": user, **context},
                                      status_code=code)
