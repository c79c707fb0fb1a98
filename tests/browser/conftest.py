"""A real server (uvicorn on a free port) and Debian's chromium driven by Playwright.

Never downloads a browser: ``/usr/bin/chromium`` is launched directly. The tests skip when
it is missing, except with ``BOUNCELEDGER_REQUIRE_SERVICES=1`` (CI), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bench.server import running_server
from tests.conftest import ADMIN_TOKEN, REQUIRED
from tests.sns_signing import TOPIC, Signer, ses_bounce

CHROMIUM = os.environ.get("BOUNCELEDGER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}



@dataclass
class Server:
    """The running service, a signer for its webhook, and a token per role."""

    base: str
    signer: Signer
    tokens: dict[str, str]

    def seed_bounce(self, address: str, profile_id: str, message_id: str) -> None:
        """A recorded send and its SES hard bounce through the signed SNS webhook."""
        recorded = httpx.post(f"{self.base}/v1/messages:record", headers=ADMIN, json={
            "message_id": message_id, "sender": "shop.example",
            "recipients": [{"address": address, "profile_id": profile_id}]})
        assert recorded.status_code == 200, recorded.text
        envelope = self.signer.notification(ses_bounce(address, message_id=message_id))
        hooked = httpx.post(f"{self.base}/webhooks/ses", content=json.dumps(envelope),
                            headers={"Content-Type": "text/plain; charset=UTF-8",
                                     "x-amz-sns-message-type": "Notification"})
        assert hooked.status_code == 200, hooked.text


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if shutil.which(CHROMIUM) is None:
        message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if REQUIRED:
            pytest.fail(message + "; BOUNCELEDGER_REQUIRE_SERVICES=1 makes browser tests "
                        "mandatory")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("console-e2e")
    signer = Signer(root / "certs")
    env = {"BOUNCELEDGER_DATABASE_URL": f"sqlite:///{root / 'ledger.db'}",
           "BOUNCELEDGER_REDIS_URL": "", "BOUNCELEDGER_BOOTSTRAP_TOKEN": ADMIN_TOKEN,
           "BOUNCELEDGER_SNS_TOPIC_ARNS": TOPIC, "BOUNCELEDGER_SNS_CERT_DIR": str(signer.cert_dir),
           "BOUNCELEDGER_SNS_AUTO_CONFIRM": "false", "BOUNCELEDGER_SESSION_SECRET": ""}
    with running_server(env) as base:
        tokens = {"admin": ADMIN_TOKEN}
        for role, name in (("operator", "Olivia Operator"), ("viewer", "Victor Viewer")):
            made = httpx.post(f"{base}/v1/tokens", headers=ADMIN, json={"role": role,
                                                                         "name": name})
            assert made.status_code in (200, 201), made.text
            tokens[role] = made.json()["token"]
        yield Server(base, signer, tokens)


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, headless=True,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
