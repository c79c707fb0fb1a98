"""A PostgreSQL restart under webhook load, on a private cluster of our own.

``OwnPostgres`` runs ``initdb`` in a temporary directory and serves it on a free port, so a
test or a benchmark can ``pg_ctl restart -m fast`` without touching the shared server.
``restart_under_load`` posts signed SNS notifications from many threads, each retried like
SNS retries (after a 5xx or a timeout), restarts the cluster part-way, and measures the
time without any 2xx and how long after the database accepted connections the first 2xx
came.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.server import free_port
from tests.sns_signing import Signer, ses_bounce

PG_BIN = Path("/usr/lib/postgresql")


def _bin(name: str) -> str:
    found = sorted(PG_BIN.glob(f"*/bin/{name}"))
    if not found:
        raise FileNotFoundError(f"{name} not found under {PG_BIN}")
    return str(found[-1])


class OwnPostgres:
    """A throwaway PostgreSQL cluster (trust auth) in a temporary directory, on a free port.

    The directory is its own (not a test's ``tmp_path``, which the ``postgres`` user cannot
    enter when the tests run as root) and is removed by ``stop``."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="bounceledger-pg-"))
        self.root.chmod(0o755)
        self.data, self.sockets, self.port = self.root / "data", self.root / "sock", free_port()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def start(self) -> None:
        for directory in (self.data, self.sockets):
            directory.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(directory, "postgres", "postgres")
        if not (self.data / "PG_VERSION").exists():
            self._run(_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                      "--no-sync")
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.data / "log"),
                  "-o", f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
                  "-c fsync=off", "start")

    def restart(self) -> None:
        """``pg_ctl restart -m fast``; returns when the server accepts connections again."""
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-w", "-m", "fast", "restart")

    def stop(self) -> None:
        try:
            self._run(_bin("pg_ctl"), "-D", str(self.data), "-w", "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def restart_under_load(base: str, signer: Signer, pg: OwnPostgres, *, count: int = 600,
                       threads: int = 16, retry_after_s: float = 0.2) -> dict[str, Any]:
    """Post ``count`` notifications (one hard bounce each) with SNS-like retries while the
    cluster restarts; the addresses they were for, and the timings."""
    run = uuid.uuid4().hex[:8]
    addresses = [f"restart{i}-{run}@example.com" for i in range(count)]
    bodies = [json.dumps(signer.notification(ses_bounce(a))).encode() for a in addresses]
    ok_times: list[float] = []
    attempts = [0]
    lock = threading.Lock()

    def post_until_2xx(client: httpx.Client, body: bytes) -> None:
        while True:
            with lock:
                attempts[0] += 1
            try:
                if client.post("/webhooks/ses", content=body).status_code == 200:
                    with lock:
                        ok_times.append(time.monotonic())
                    return
            except httpx.HTTPError:
                pass
            time.sleep(retry_after_s)

    def worker(chunk: list[bytes]) -> None:
        with httpx.Client(base_url=base, timeout=15,
                          headers={"Content-Type": "text/plain"}) as client:
            for body in chunk:
                post_until_2xx(client, body)

    pool = [threading.Thread(target=worker, args=(bodies[i::threads],)) for i in range(threads)]
    started = time.monotonic()
    for t in pool:
        t.start()
    while len(ok_times) < count // 3:
        time.sleep(0.01)
    restart_began = time.monotonic()
    pg.restart()
    accepting = time.monotonic()
    for t in pool:
        t.join()
    finished = time.monotonic()
    ordered = sorted(ok_times)
    after = [t for t in ordered if t >= accepting]
    gaps = [b - a for a, b in itertools.pairwise(ordered) if b >= restart_began]
    return {"addresses": addresses, "notifications": count, "posts": attempts[0],
            "restart_s": round(accepting - restart_began, 2),
            "longest_without_2xx_s": round(max(gaps, default=0.0), 2),
            "first_2xx_after_accepting_s": round(after[0] - accepting, 2) if after else None,
            "per_s": round(count / (finished - started), 1)}


def run(count: int) -> dict[str, Any]:
    """The bench entry: one restart under ``count`` notifications (SPEC §6: a 4xx is final,
    so every answer during the restart must be a 2xx or a 5xx SNS retries)."""
    from bench.common import BENCH_TOKEN
    from bench.server import running_server
    from tests.sns_signing import TOPIC

    pg = OwnPostgres()
    try:
        pg.start()
        with tempfile.TemporaryDirectory() as tmp:
            signer = Signer(Path(tmp) / "certs")
            env = {"BOUNCELEDGER_DATABASE_URL": pg.url,
                   "BOUNCELEDGER_BOOTSTRAP_TOKEN": BENCH_TOKEN,
                   "BOUNCELEDGER_SNS_TOPIC_ARNS": TOPIC,
                   "BOUNCELEDGER_SNS_CERT_DIR": str(signer.cert_dir)}
            with running_server(env) as base:
                outcome = restart_under_load(base, signer, pg, count=count)
    finally:
        pg.stop()
    outcome.pop("addresses")
    return outcome
