"""The HTTP API, the console and the command line: thin layers over the ledger."""
