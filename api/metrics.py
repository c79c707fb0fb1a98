"""Prometheus metrics (one registry per process; exposed at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SNS_MESSAGES = Counter(
    "bounceledger_sns_messages_total",
    "SNS/SQS messages by outcome: accepted, duplicate, ignored, unknown, confirmed, "
    "unsubscribed, or the refusal code",
    ["path", "outcome"],
)
REPORTS = Counter(
    "bounceledger_reports_total", "Reports from SES by kind and result (recorded, duplicate)",
    ["kind", "result"],
)
INGEST_SECONDS = Histogram(
    "bounceledger_ingest_seconds", "Time from receiving an SNS message to answering it",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

WEBHOOK_ATTEMPTS = Counter(
    "bounceledger_webhook_attempts_total",
    "Outgoing webhook delivery attempts per endpoint id, by outcome: delivered, retry "
    "(will be tried again), failed (attempts used up)",
    ["endpoint", "outcome"],
)
WEBHOOK_SECONDS = Histogram(
    "bounceledger_webhook_attempt_seconds", "Time one webhook delivery attempt took",
    ["endpoint"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
WEBHOOK_PENDING = Gauge(
    "bounceledger_webhook_pending", "Webhook deliveries waiting to be delivered", ["endpoint"],
)
WEBHOOK_ENABLED = Gauge(
    "bounceledger_webhook_endpoint_enabled", "1 while an endpoint is enabled, 0 once disabled",
    ["endpoint"],
)
SES_SYNC_CALLS = Counter(
    "bounceledger_ses_sync_calls_total",
    "SES suppression-list calls by operation and outcome (ok, throttled, error)",
    ["operation", "outcome"],
)
PROJECTION_QUARANTINED = Gauge(
    "bounceledger_projection_quarantined",
    "Addresses whose events a view could not apply: they answer not sendable "
    "(projection_error) until repaired with 'bounceledger quarantine retry'",
)
