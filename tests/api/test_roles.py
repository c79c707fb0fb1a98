"""Every route refuses a missing token (401) and a wrong role (403)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

A = "someone@example.com"
ROUTES: list[tuple[str, str, Any, set[str]]] = [
    ("GET", f"/v1/addresses/{A}", None, {"viewer", "sender", "operator", "admin"}),
    ("POST", "/v1/addresses:check", {"addresses": [A]}, {"sender", "admin"}),
    ("GET", f"/v1/addresses/{A}/history", None, {"viewer", "operator", "admin"}),
    ("GET", "/v1/addresses", None, {"viewer", "operator", "admin"}),
    ("GET", f"/v1/addresses/{A}/status-at?at=2026-01-01T00:00:00Z", None,
     {"viewer", "operator", "admin"}),
    ("POST", f"/v1/addresses/{A}/reset", {"reason": "r"}, {"operator", "admin"}),
    ("POST", f"/v1/addresses/{A}/suppress", {"reason": "r"}, {"operator", "admin"}),
    ("PUT", "/v1/profiles/p1/email", {"email": A}, {"operator", "admin"}),
    ("GET", "/v1/profiles/p1", None, {"viewer", "operator", "admin"}),
    ("POST", "/v1/messages:record", {"message_id": "m", "recipients": [{"address": A}]},
     {"sender", "admin"}),
    ("POST", "/v1/tokens", {"role": "viewer", "name": "x"}, {"admin"}),
    ("GET", "/v1/tokens", None, {"admin"}),
    ("DELETE", "/v1/tokens/doomed", None, {"admin"}),
]
IDS = [f"{method} {path}" for method, path, _, _ in ROUTES]


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ROUTES, ids=IDS)
def test_missing_or_invalid_token_is_401(client: TestClient, method: str, path: str,
                                         body: Any, allowed: set[str]) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ROUTES, ids=IDS)
def test_each_role_is_admitted_or_refused(client: TestClient, headers: dict, method: str,
                                          path: str, body: Any, allowed: set[str]) -> None:
    for role, auth in headers.items():
        response = client.request(method, path, json=body, headers=auth)
        if role in allowed:
            assert response.status_code not in (401, 403), (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["error"]["code"] == "forbidden"
