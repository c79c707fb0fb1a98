from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services
from tests.conftest import ADMIN_TOKEN

ROLES = ("viewer", "sender", "operator", "admin")


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=services)) as test_client:
        yield test_client


@pytest.fixture
def headers(services: Services) -> dict[str, dict[str, str]]:
    """Authorization headers for one token of each role."""
    services.tokens.create("doomed", "viewer")
    result = {"admin": {"Authorization": f"Bearer {ADMIN_TOKEN}"}}
    for role in ROLES[:3]:
        token = services.tokens.create(f"{role}-token", role)
        result[role] = {"Authorization": f"Bearer {token}"}
    return result
