"""A scripted SES v2 suppression list and services syncing with it (push and pull)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from api.services import Services, build_services
from tests.conftest import make_settings
from tests.ses_suppression_fake import ScriptedSuppressionList


@pytest.fixture
def ses_list() -> Iterator[ScriptedSuppressionList]:
    fake = ScriptedSuppressionList(page_size=2)
    yield fake
    fake.close()


def sync_settings(endpoint: str, **extra: Any) -> dict[str, Any]:
    return {"ses_suppression_sync": "both",
            "aws_endpoint_url": endpoint, "ses_sync_rate": 1000.0, "erasure_key": "e" * 32,
            **extra}


@pytest.fixture
def make_services(database_url: str, ses_list: ScriptedSuppressionList
                  ) -> Iterator[Callable[..., Services]]:
    """Services on the shared database; call again for a "restarted" process."""
    built: list[Services] = []

    def make(**extra: Any) -> Services:
        settings = sync_settings(ses_list.endpoint, **extra)
        built.append(build_services(make_settings(database_url, **settings)))
        return built[-1]

    yield make
    for services in built:
        services.close()


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services()
