"""``python -m bench [--quick] [--only NAME]``: run the benchmarks, print one JSON summary."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from datetime import UTC, datetime

from bench import (
    analytics,
    auth,
    classify,
    ingest,
    ledger,
    recovery,
    send_path,
    status_checks,
    webhooks,
    write_cost,
)

KINDS = ("sqlite", "postgresql")
BENCHES = {
    "command_throughput": lambda n: [ledger.command_throughput(k, n) for k in KINDS],
    "check_10k": lambda n: [ledger.check_10k(k) for k in KINDS],
    "status_checks": lambda n: status_checks.run(10_000, 5.0 if n >= 1000 else 2.0),
    "sns_ingest": lambda n: [ingest.run(k, 3 * n) for k in KINDS],
    "write_cost": lambda n: [write_cost.run(k, 60 if n >= 1000 else 30) for k in KINDS],
    "recovery": lambda n: recovery.run(600 if n >= 1000 else 300),
    "send_path": lambda n: [send_path.run(k, max(20, n // 10)) for k in KINDS],
    "webhooks": lambda n: webhooks.run(n),
    "classifier": lambda n: classify.run(n),
    # Token lookup per request (no cache: revocation holds at once in every process).
    "auth": lambda n: [auth.run(k, 2 * n) for k in KINDS],
    # Export and rebuild at 200k and 2M events (20k and 200k with --quick; --events N).
    "analytics": lambda n: analytics.run_sizes(
        (200_000, 2_000_000) if n >= 1000 else (20_000, 200_000)),
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    parser.add_argument("--only", choices=sorted(BENCHES), action="append")
    parser.add_argument("--events", type=int, help="events for the analytics bench")
    args = parser.parse_args()
    if args.events:
        BENCHES["analytics"] = lambda n: analytics.run_sizes([args.events])
    count = 200 if args.quick else 1000
    results = {}
    for name in args.only or BENCHES:
        print(f"running {name}…", file=sys.stderr)
        results[name] = BENCHES[name](count)
    summary = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
               "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
               "results": results}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
