"""Console fixtures: a client on http://localhost (so the session cookie is not ``Secure``)
and a logged-in client per role."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services, build_services
from tests.conftest import ADMIN_TOKEN, make_settings

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """The console is the same on every backend (the list SQL is tested on both in tests/api)."""
    built = build_services(make_settings(f"sqlite:///{tmp_path / 'console.db'}"))
    yield built
    built.close()


@pytest.fixture
def tokens(services: Services) -> dict[str, str]:
    made = {role: services.tokens.create(f"{role}-person", role)
            for role in ("viewer", "sender", "operator")}
    return {**made, "admin": ADMIN_TOKEN}


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def tampered(value: str) -> str:
    """``value`` with its last character changed (always a different value)."""
    return value[:-1] + ("1" if value.endswith("0") else "0")


def log_in(client: TestClient, token: str) -> None:
    form = client.get("/console/login")
    response = client.post("/console/login", data={"token": token, "csrf_token": csrf_of(
        form.text), "next": "/console/addresses"}, follow_redirects=False)
    assert response.status_code == 303, response.text


@pytest.fixture
def anonymous(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=services), base_url="http://localhost") as client:
        yield client


@pytest.fixture
def console(services: Services, tokens: dict[str, str]) -> Iterator[Callable[[str], TestClient]]:
    """``console("operator")``: a client logged in with that role's token."""
    app = create_app(services=services)
    clients: list[TestClient] = []

    def logged_in(role: str) -> TestClient:
        client = TestClient(app, base_url="http://localhost")
        client.__enter__()
        clients.append(client)
        log_in(client, tokens[role])
        return client

    yield logged_in
    for client in clients:
        client.__exit__(None, None, None)
