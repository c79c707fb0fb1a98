"""Read models built from the ledger's events, each updated exactly once per event."""
