"""The dispatcher outlives a database outage: deliveries resume when the store is back."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from api.services import build_services
from tests.conftest import POSTGRES_URL, make_settings
from tests.proxy import Proxy
from tests.webhook_receiver import Receiver
from tests.webhooks.conftest import FAST, subscribe, suppress


@pytest.mark.postgres
def test_deliveries_resume_after_the_store_comes_back(pg_schema: str) -> None:
    target = urlsplit(POSTGRES_URL)
    proxy = Proxy(target.hostname or "127.0.0.1", target.port or 5432)
    url = POSTGRES_URL.replace(f":{target.port}/", f":{proxy.port}/") + f"?schema={pg_schema}"
    services = build_services(make_settings(url, **FAST))
    receiver = Receiver()
    try:
        subscribe(services, receiver.url)
        services.start_dispatcher()
        proxy.cut()
        time.sleep(2.5)  # the dispatcher's polls fail meanwhile
        proxy.resume()
        suppress(services, "ann@example.org")
        receiver.wait_count(1)
    finally:
        receiver.close()
        services.close()
        proxy.close()
