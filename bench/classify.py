"""The bounce classifier (SPEC §3.1): its cost per bounce, and what it adds to ingest.

Raw limit in the same run: lower-casing each diagnostic and one pass of a single compiled
regex (every phrase of the table joined into one alternation) over it — the least work that
reads each text once with the table's phrases. Ingest is measured in process (verify +
parse + classify + commit, 32 threads) on the same database kind with the classifier, and
before and after that with ``classify`` replaced by a constant (the cost before it)."""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import Any

import domain.reports
from bench.common import database, rate
from bench.ingest import _in_process
from domain.failure_classes import RULES, UNCLASSIFIED, classify
from tests.domain.bounce_corpus import CORPUS
from tests.sns_signing import Signer


def per_bounce(count: int) -> dict[str, Any]:
    samples = [(s.bounce_type, s.subtype, s.status, s.diagnostic) for s in CORPUS]
    inputs = [samples[i % len(samples)] for i in range(count)]
    start = time.perf_counter()
    for args in inputs:
        classify(*args)
    ours = time.perf_counter() - start
    union = re.compile("|".join(f"(?:{r.phrases})" for r in RULES if r.phrases))
    texts = [d or "" for *_, d in inputs]
    start = time.perf_counter()
    for text in texts:
        union.search(text.lower())
    raw = time.perf_counter() - start
    return {"bounces": count, "classify_per_s": rate(count, ours),
            "classify_us": round(ours / count * 1e6, 1),
            "one_regex_scan_per_s": rate(count, raw),
            "ratio_to_one_regex_scan": round(raw / ours, 3)}


def ingest_cost(kind: str, count: int) -> dict[str, Any]:
    results: dict[str, Any] = {"database": kind, "notifications": count}
    with tempfile.TemporaryDirectory() as tmp:
        signer = Signer(Path(tmp) / "certs")
        for mode in ("without_classifier", "with_classifier", "without_classifier_again"):
            original = domain.reports.classify
            if mode.startswith("without"):
                domain.reports.classify = lambda *_: UNCLASSIFIED  # type: ignore[assignment]
            try:
                with database(kind) as url:
                    results[mode] = _in_process(url, signer, True, count)
            finally:
                domain.reports.classify = original  # type: ignore[assignment]
    base = (results["without_classifier"]["per_s"]
            + results["without_classifier_again"]["per_s"]) / 2
    results["ratio_with_to_without"] = round(results["with_classifier"]["per_s"] / base, 3)
    return results


def run(count: int) -> dict[str, Any]:
    return {"per_bounce": per_bounce(max(count * 20, 5000)),
            "ingest": [ingest_cost(kind, count) for kind in ("sqlite", "postgresql")]}
