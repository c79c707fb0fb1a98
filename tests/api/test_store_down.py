"""When PostgreSQL goes away mid-flight every route answers 503, never 500."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import build_services
from tests.api.test_webhook import make_hook
from tests.conftest import ADMIN_TOKEN, POSTGRES_URL, make_settings
from tests.proxy import Proxy
from tests.sns_signing import ses_bounce

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def proxied(pg_schema: str) -> Iterator[tuple[TestClient, Proxy]]:
    target = urlsplit(POSTGRES_URL)
    proxy = Proxy(target.hostname or "127.0.0.1", target.port or 5432)
    url = POSTGRES_URL.replace(f":{target.port}/", f":{proxy.port}/") + f"?schema={pg_schema}"
    services = build_services(make_settings(url, store_outage_budget_s=0.5))
    try:
        with TestClient(create_app(services=services), raise_server_exceptions=False) as client:
            yield client, proxy
    finally:
        proxy.close()
        services.close()


@pytest.mark.postgres
def test_requests_get_503_when_the_store_is_down(proxied: tuple[TestClient, Proxy]) -> None:
    client, proxy = proxied
    ok = client.post("/v1/addresses/a@example.com/suppress", json={"reason": "x"}, headers=AUTH)
    assert ok.status_code == 200
    proxy.cut()
    for method, path, body in [
        ("GET", "/v1/addresses/a@example.com/history", None),
        ("POST", "/v1/addresses/a@example.com/suppress", {"reason": "x"}),
        ("POST", "/v1/addresses:check", {"addresses": ["a@example.com"]}),
        ("POST", "/v1/messages:record",
         {"message_id": "m", "recipients": [{"address": "a@example.com"}]}),
    ]:
        response = client.request(method, path, json=body, headers=AUTH)
        assert response.status_code == 503, (path, response.text)
        assert response.json()["error"]["code"] == "store_unavailable"
    assert client.get("/readyz").status_code == 503


@pytest.mark.postgres
def test_the_webhook_answers_503_while_the_store_is_down_and_loses_nothing(
        pg_schema: str, tmp_path: Path) -> None:
    """SNS retries a 503; the retry after the store is back is stored exactly once."""
    target = urlsplit(POSTGRES_URL)
    proxy = Proxy(target.hostname or "127.0.0.1", target.port or 5432)
    url = POSTGRES_URL.replace(f":{target.port}/", f":{proxy.port}/") + f"?schema={pg_schema}"
    hook = make_hook(url, tmp_path, store_outage_budget_s=0.5)
    try:
        client = next(hook)
        envelope = client.signer.notification(ses_bounce("down@example.com"))
        proxy.cut()
        refused = client.post(envelope)
        assert refused.status_code == 503, refused.text
        proxy.resume()
        answers = []  # SNS retries until a 2xx; the pools reconnect within seconds
        deadline = time.monotonic() + 20
        while 200 not in answers and time.monotonic() < deadline:
            answers.append(client.post(envelope).status_code)
        assert set(answers) <= {200, 503} and answers[-1] == 200, answers
        assert client.post(envelope).status_code == 200
        assert client.post(envelope).status_code == 200
        assert client.status("down@example.com")["status"] == "bounced"
        history = client.client.get("/v1/addresses/down@example.com/history", headers=AUTH).json()
        assert [e["type"] for e in history["events"]].count("HardBounced") == 1
    finally:
        hook.close()
        proxy.close()
