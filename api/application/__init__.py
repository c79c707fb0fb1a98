"""Application services: the use cases that join the ledger to the outside world.

``domain.Ledger`` (an ``eventsourcing`` application) is the only write path and decides
what an address's events mean; the services here decide what to *do* around it — which
recipients of a message are sent and what is recorded (``sending``), what an SNS message
leads to (``ingest``), when a sender is paused (``sender_rules``), when a soft-bounce streak
escalates (``escalation``), what the SES suppression sync pushes and pulls (``ses_sync``),
and what an admin may register as a webhook (``webhooks``).

Layering: ``domain`` ← ``adapters`` ← ``projections`` ← ``application`` ← ``api``. A service
may use the domain, the adapters' translators and stores, and the projections' readers; the
outside reaches it through a small protocol where it has more than one shape (the SES
transport, the committer). Nothing below ``api`` imports this package; ``api.services``
builds the services from the settings and the routes, console and CLI call them.
"""
