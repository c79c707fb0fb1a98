"""The SNS HTTPS endpoint (SPEC §6): verified before anything else, 200 only after commit."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from adapters.sns import MAX_BODY, SnsRefused
from api.deps import Svc
from api.metrics import INGEST_SECONDS, SNS_MESSAGES

router = APIRouter(tags=["webhooks"])


async def _read_body(request: Request) -> bytes | None:
    """The raw body whatever the Content-Type (SNS sends text/plain); None past the cap."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


@router.post("/webhooks/ses")
@router.post("/webhooks/sns", include_in_schema=False)
async def sns_webhook(request: Request, services: Svc) -> JSONResponse:
    started = time.perf_counter()
    body = await _read_body(request)
    if body is None:
        SNS_MESSAGES.labels("sns", "too_large").inc()
        raise SnsRefused(413, "too_large", f"body over {MAX_BODY // 1024} KiB")
    header_type = request.headers.get("x-amz-sns-message-type")
    try:  # a refusal (``SnsRefused``) is answered by the one error handler
        outcome = await run_in_threadpool(services.ingest.handle_sns, body, header_type)
    finally:
        INGEST_SECONDS.observe(time.perf_counter() - started)
    return JSONResponse(outcome.body())
