"""What authenticating a request costs now that nothing is cached (issue 13: a revoked token
is refused at once in every process): ``TokenStore.authenticate`` per call, beside the raw
limit of one trivial query on the same connections (``SELECT 1``) and beside the dictionary
lookup the old 5-second cache cost; and the console's per-request session check (a join of
the session row and its token)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from api.tokens import hash_token
from bench.common import BENCH_TOKEN, database, percentiles, services_on


def _samples(fn: Callable[[], object], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def run(kind: str, count: int = 2000) -> dict[str, Any]:
    with database(kind) as url, services_on(url) as services:
        for n in range(50):  # a realistic table: some tokens besides ours
            services.tokens.create(f"app-{n}", "sender")
        db, tokens = services.db, services.tokens

        def select_one() -> None:
            with db.read() as cur:
                cur.execute("SELECT 1")
                cur.fetchone()

        cache = {BENCH_TOKEN: tokens.authenticate(BENCH_TOKEN)}
        for fn in (select_one, lambda: tokens.authenticate(BENCH_TOKEN)):
            _samples(fn, 100)  # warm the pools
        raw = percentiles(_samples(select_one, count))
        lookup = percentiles(_samples(lambda: tokens.authenticate(BENCH_TOKEN), count))
        cached = percentiles(_samples(lambda: cache.get(BENCH_TOKEN), count))
        now = int(time.time())
        session = tokens.sessions.start("bootstrap", hash_token(BENCH_TOKEN), now, 3600)
        console = percentiles(_samples(lambda: tokens.sessions.holder(session, now), count))
        return {"store": kind, "calls": count, "authenticate": lookup,
                "console_session_check": console,
                "raw_limit_select_1": raw, "old_cached_lookup": cached,
                "ratio_p50_to_raw": round(lookup["p50_ms"] / raw["p50_ms"], 2)}
