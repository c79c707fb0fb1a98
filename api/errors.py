"""Every expected error becomes ``{"error": {"code", "message"}}`` with a precise status."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from adapters.sql import StoreUnavailable
from api.console import error_page
from api.sender_binding import SenderNotAllowed
from api.tokens import TokenError
from domain.errors import (
    AddressNotFound,
    ConsentRequired,
    DeliveryErased,
    ErasureIncomplete,
    ErasureUnavailable,
    InvalidAddress,
    InvalidCommand,
    InvalidMessage,
    InvalidWebhook,
    LedgerError,
    ProfileNotFound,
    SenderPaused,
    WebhookNotFound,
)
from projections.address_list import InvalidListQuery

log = logging.getLogger(__name__)

STATUS_OF: dict[type[LedgerError], int] = {
    InvalidAddress: 422,
    InvalidCommand: 422,
    ConsentRequired: 403,
    ProfileNotFound: 404,
    InvalidMessage: 422,
    SenderPaused: 409,
    InvalidListQuery: 400,
    AddressNotFound: 404,
    ErasureUnavailable: 503,
    ErasureIncomplete: 503,
    InvalidWebhook: 422,
    WebhookNotFound: 404,
    DeliveryErased: 409,
}
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
              415: "unsupported_media_type", 422: "validation_error", 429: "too_many_requests",
              503: "unavailable"}


def error_response(status: int, code: str, message: str,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


TITLES = {400: "Bad request", 401: "Log in", 403: "Not allowed", 404: "Not found",
          405: "Not allowed", 422: "Not valid", 429: "Too many requests", 503: "Unavailable"}


def _answer(request: Request, status: int, code: str, message: str,
            headers: Mapping[str, str] | None = None) -> Response:
    """JSON for the API; an HTML page for the console."""
    if request.url.path.startswith("/console"):
        page = error_page(request, status, TITLES.get(status, "Error"), message)
        if headers and "Retry-After" in headers:
            page.headers["Retry-After"] = headers["Retry-After"]
        return page
    return error_response(status, code, message, headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    def _ledger(request: Request, exc: LedgerError) -> Response:
        return _answer(request, STATUS_OF.get(type(exc), 422), exc.code, exc.message)

    @app.exception_handler(TokenError)
    @app.exception_handler(SenderNotAllowed)
    def _token(request: Request, exc: TokenError | SenderNotAllowed) -> Response:
        return _answer(request, exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return _answer(request, 422, "validation_error", _validation_message(exc))

    @app.exception_handler(HTTPException)
    def _http(request: Request, exc: HTTPException) -> Response:
        code = HTTP_CODES.get(exc.status_code, "error")
        return _answer(request, exc.status_code, code, str(exc.detail), exc.headers)

    @app.exception_handler(StoreUnavailable)
    @app.exception_handler(PersistenceError)
    def _unavailable(request: Request, exc: Exception) -> Response:
        log.warning("store unavailable: %s", type(exc).__name__)
        return _answer(request, 503, "store_unavailable", "the store is unavailable; retry later",
                              {"Retry-After": "5"})
