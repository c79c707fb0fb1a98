"""The deliverability ledger's domain: addresses, their events and the status policy.

Imports only the standard library and ``eventsourcing``; times come in as arguments.
"""
