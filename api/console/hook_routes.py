"""Console pages for outgoing webhooks (admins) and the SES suppression sync (everyone).

Every form is a POST with the session's CSRF token (``PostUser``). A new endpoint's secret
and a rotated secret are shown in the answer to that POST — never in a URL, a redirect or
a later page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.webhook_endpoints import Endpoint
from api.application.webhooks import Webhooks
from api.console.deps import PostUser, User, render, require
from api.console.session import ConsoleError, ConsoleUser
from api.deps import Svc
from api.services import Services
from domain.errors import LedgerError
from domain.notifications import EVENT_TYPES

router = APIRouter(prefix="/console", include_in_schema=False)
EndpointId = Annotated[str, Path(min_length=1, max_length=100)]
DeliveryId = Annotated[str, Path(min_length=1, max_length=100)]
DONE = {"removed": "Endpoint removed.", "enabled": "Endpoint enabled: what queued meanwhile "
        "is being sent.", "disabled": "Endpoint disabled: deliveries queue until it is enabled.",
        "resent": "The delivery will be sent again now."}


def _hooks(services: Services, user: ConsoleUser) -> Webhooks:
    require(user, "admin", "Managing webhooks")
    assert services.webhooks is not None
    return services.webhooks


@router.get("/webhooks", response_class=HTMLResponse)
def webhooks_page(request: Request, user: User, services: Svc, done: str = "") -> Response:
    hooks = _hooks(services, user)
    return _list(request, user, hooks, done=DONE.get(done, ""))


def _list(request: Request, user: ConsoleUser, hooks: Webhooks, code: int = 200,
          **context: object) -> Response:
    pending = hooks.outbox.pending_counts()
    return render(request, "webhooks.html", user, code, endpoints=hooks.endpoints.all(),
                  pending=pending, event_types=EVENT_TYPES, **context)


@router.post("/webhooks")
def add_webhook(request: Request, user: PostUser, services: Svc,
                url: Annotated[str, Form(max_length=2000)] = "",
                events: Annotated[list[str] | None, Form()] = None,
                description: Annotated[str, Form(max_length=500)] = "") -> Response:
    hooks = _hooks(services, user)
    try:
        endpoint, secret = hooks.add(url, events or [], actor=user.name, description=description)
    except LedgerError as refused:
        return _list(request, user, hooks, 422, error=refused.message, url=url,
                     chosen=events or [])
    return render(request, "webhook_secret.html", user, 201, endpoint=endpoint, secret=secret,
                  rotated=False)


@router.get("/webhooks/{endpoint_id}", response_class=HTMLResponse)
def webhook_page(request: Request, endpoint_id: EndpointId, user: User, services: Svc,
                 done: str = "") -> Response:
    hooks = _hooks(services, user)
    endpoint = _endpoint(hooks, endpoint_id)
    deliveries = hooks.outbox.deliveries(endpoint_id, limit=50)
    return render(request, "webhook.html", user, endpoint=endpoint, deliveries=deliveries,
                  done=DONE.get(done, ""))


@router.post("/webhooks/{endpoint_id}/enabled")
def set_enabled(endpoint_id: EndpointId, user: PostUser, services: Svc,
                enabled: Annotated[str, Form(max_length=5)] = "") -> Response:
    hooks = _hooks(services, user)
    _endpoint(hooks, endpoint_id)
    hooks.change(endpoint_id, enabled=enabled == "true")
    state = "enabled" if enabled == "true" else "disabled"
    return RedirectResponse(f"/console/webhooks/{endpoint_id}?done={state}", 303)


@router.post("/webhooks/{endpoint_id}/rotate")
def rotate(request: Request, endpoint_id: EndpointId, user: PostUser,
           services: Svc) -> Response:
    hooks = _hooks(services, user)
    endpoint = _endpoint(hooks, endpoint_id)
    secret, until = hooks.rotate(endpoint_id)
    return render(request, "webhook_secret.html", user, endpoint=endpoint, secret=secret,
                  rotated=True, until=until)


@router.post("/webhooks/{endpoint_id}/remove")
def remove(endpoint_id: EndpointId, user: PostUser, services: Svc) -> Response:
    hooks = _hooks(services, user)
    _endpoint(hooks, endpoint_id)
    hooks.remove(endpoint_id)
    return RedirectResponse("/console/webhooks?done=removed", 303)


@router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/resend")
def resend(endpoint_id: EndpointId, delivery_id: DeliveryId, user: PostUser,
           services: Svc) -> Response:
    hooks = _hooks(services, user)
    try:
        hooks.resend(endpoint_id, delivery_id)
    except LedgerError as refused:
        raise ConsoleError(refused.status, "Cannot send again", refused.message) from None
    return RedirectResponse(f"/console/webhooks/{endpoint_id}?done=resent", 303)


def _endpoint(hooks: Webhooks, endpoint_id: str) -> Endpoint:
    try:
        return hooks.get(endpoint_id)
    except LedgerError:
        raise ConsoleError(404, "No such endpoint",
                           f"No webhook endpoint “{endpoint_id}”.") from None


@router.get("/ses-sync", response_class=HTMLResponse)
def ses_sync_page(request: Request, user: User, services: Svc) -> Response:
    mode = services.settings.ses_suppression_sync
    state = services.ses_sync().state() if mode != "off" else None
    return render(request, "ses_sync.html", user, mode=mode, state=state)
