"""``bounceledger ses-sync`` SIGKILLed in the middle of a push, then run again: every call is
made, and none that SES acknowledged is made twice (only the one in flight may be)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from api.services import build_services
from tests.conftest import make_settings
from tests.ses_suppression_fake import ScriptedSuppressionList
from tests.webhooks.conftest import suppress

BOUNCELEDGER = str(Path(sys.executable).parent / "bounceledger")


def test_a_killed_push_repeats_no_acknowledged_call(tmp_path: Path) -> None:
    fake = ScriptedSuppressionList()
    database = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = {**os.environ, "BOUNCELEDGER_DATABASE_URL": database,
           "BOUNCELEDGER_SES_SUPPRESSION_SYNC": "push", "BOUNCELEDGER_SES_SYNC_RATE": "1000",
           "BOUNCELEDGER_SES_SYNC_LEASE_S": "1", "BOUNCELEDGER_AWS_ENDPOINT_URL": fake.endpoint,
           "BOUNCELEDGER_REDIS_URL": ""}
    addresses = [f"{name}@example.org" for name in "abcd"]
    services = build_services(make_settings(database, ses_suppression_sync="push",
                                            aws_endpoint_url=fake.endpoint))
    try:
        for address in addresses:
            suppress(services, address)
        fake.hold_on = "Put:c@example.org"
        first = subprocess.Popen([BOUNCELEDGER, "ses-sync"], env=env)
        assert fake.holding.wait(30)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        fake.released.set()  # SES answers the dead process: never acknowledged to us
        time.sleep(1.2)  # the dead process's claim (SES_SYNC_LEASE_S) runs out
        done = subprocess.run([BOUNCELEDGER, "ses-sync"], env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        puts = [c.address for c in fake.calls if c.operation == "Put"]
        assert sorted(fake.acknowledged("Put")) == addresses
        assert puts.count("c@example.org") == 2  # the call in flight is made again
        assert all(puts.count(a) == 1 for a in addresses if a != "c@example.org")
        for address in addresses:
            recorded = [type(e).__name__ for e in services.ledger.history(address)]
            assert recorded.count("AddedToSesSuppressionList") == 1
    finally:
        services.close()
        fake.close()
