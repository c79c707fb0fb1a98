"""``create_app(settings)``: the FastAPI application over one set of services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from api import log_redaction
from api.console import install_console
from api.errors import install_error_handlers
from api.routes import (
    addresses,
    health,
    messages,
    outgoing_webhooks,
    profiles,
    quarantine,
    senders,
    tokens,
    webhooks,
)
from api.services import Services, build_services
from api.settings import Settings
from api.storable import StorableJson
from api.throttle import FailureThrottle
from api.url_guard import refuse_nul

# Wrong API tokens per client before it gets 429 for the rest of the window (per process).
BEARER_FAILURES, BEARER_WINDOW_S = 20, 60.0


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app; pass ``services`` to share them (tests), else they are built here."""
    settings = settings or (services.settings if services else Settings())
    owned = services is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.services is None:
            app.state.services = build_services(settings)
        if app.state.services.db.dialect == "postgresql" or app.state.services.redis:
            app.state.services.start_follower()
        app.state.services.start_dispatcher()
        yield
        if owned:
            app.state.services.close()
            app.state.services = None

    app = FastAPI(title="bounceledger", version="0.1.0", lifespan=lifespan,
                  dependencies=[Depends(refuse_nul)])
    app.state.services = services
    app.state.bearer_throttle = FailureThrottle(BEARER_FAILURES, BEARER_WINDOW_S)
    install_error_handlers(app)
    app.add_middleware(StorableJson)
    for module in (health, webhooks, addresses, profiles, messages, senders, tokens,
                   quarantine, outgoing_webhooks):
        app.include_router(module.router)
    install_console(app, settings)
    log_redaction.install(settings.erasure_key.get_secret_value().encode() or None)
    return app
