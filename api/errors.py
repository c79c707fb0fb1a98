"""Every expected error becomes ``{"error": {"code", "message"}}`` with a precise status
(an HTML page on the console). Our errors share one base, ``domain.errors.ExpectedError``,
which carries its status and code, and one handler renders them; the others here translate
the framework's and the event store's errors into the same answer."""

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
from domain.errors import ExpectedError

log = logging.getLogger(__name__)

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
            headers: Mapping[str, str] | None = None, title: str | None = None) -> Response:
    """JSON for the API; an HTML page for the console."""
    if request.url.path.startswith("/console"):
        page = error_page(request, status, title or TITLES.get(status, "Error"), message)
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


def _expected(request: Request, exc: ExpectedError, cause: str) -> Response:
    if exc.status >= 500:
        log.warning("answered %d %s: %s", exc.status, exc.code, cause)
    return _answer(request, exc.status, exc.code, exc.message, exc.headers, exc.title)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ExpectedError)
    def _ours(request: Request, exc: ExpectedError) -> Response:
        return _expected(request, exc, type(exc).__name__)

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return _answer(request, 422, "validation_error", _validation_message(exc))

    @app.exception_handler(HTTPException)
    def _http(request: Request, exc: HTTPException) -> Response:
        code = HTTP_CODES.get(exc.status_code, "error")
        return _answer(request, exc.status_code, code, str(exc.detail), exc.headers)

    @app.exception_handler(PersistenceError)
    def _event_store(request: Request, exc: PersistenceError) -> Response:
        return _expected(request, StoreUnavailable(), type(exc).__name__)
