"""Liveness, readiness (store and Redis reachable) and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import Svc
from api.errors import error_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(services: Svc) -> Any:
    problems = []
    try:
        with services.db.read() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except Exception as error:  # readiness reports any failure, whatever its kind
        problems.append(f"store: {type(error).__name__}")
    if services.redis is not None:
        try:
            services.redis.ping()
        except Exception as error:
            problems.append(f"redis: {type(error).__name__}")
    if problems:
        return error_response(503, "not_ready", "; ".join(problems))
    quarantined = len(services.quarantined())
    if quarantined:  # serving is fine; those addresses answer "not sendable" until repaired
        return {"status": "degraded", "quarantined": quarantined,
                "detail": "a view could not apply some addresses' events: "
                          "see GET /v1/quarantine or 'bounceledger quarantine list'"}
    return {"status": "ready", "quarantined": 0}


@router.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
