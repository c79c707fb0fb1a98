"""The deterministic aggregate id of an address.

Normalization (SPEC §2: display names, case, IDNA 2008) happens where text comes in, in
``adapters/addresses.py``; everything in ``domain/`` receives addresses already normalized.
"""

from __future__ import annotations

from uuid import UUID, uuid5

# Fixed forever: changing it would give every address a new aggregate.
ADDRESS_NAMESPACE = UUID("6f1c8a52-8f0e-5b7e-9a53-2c1d0b6f4e21")


def address_id(address: str) -> UUID:
    """The aggregate id of an already normalized address: uuid5, stable across processes."""
    return uuid5(ADDRESS_NAMESPACE, address)
