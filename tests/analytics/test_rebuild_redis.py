"""After a swap of email_status, the Redis status mirror holds the rebuilt rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.services import build_services
from domain.reports import Bounce
from tests.analytics.ledgers import T0
from tests.conftest import make_settings

pytestmark = pytest.mark.redis


def test_the_swap_rewrites_the_redis_mirror(tmp_path: Path, redis_url: str,
                                            prefix: str) -> None:
    services = build_services(make_settings(f"sqlite:///{tmp_path / 'r.db'}",
                                            redis_url=redis_url, redis_prefix=prefix))
    try:
        services.ledger.record(Bounce("gone@example.com", "f1", "Permanent", "General", T0,
                                      "sns"))
        with services.db.write() as cur:  # a view gone wrong, mirrored as such
            cur.execute("UPDATE email_status SET status = 'ok', sendable = ?", (True,))
        assert services.mirror is not None
        services.mirror.refresh()
        assert services.statuses.status("gone@example.com")["status"] == "ok"
        services.rebuild("email_status")
        assert services.statuses.status("gone@example.com")["status"] == "bounced"
        assert services.statuses.check(["gone@example.com"])[0]["sendable"] is False
    finally:
        services.close()
