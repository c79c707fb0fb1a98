"""Hard bounces per recipient domain per ISO week: a new projection over the ledger.

Run it against the configured database (``BOUNCELEDGER_DATABASE_URL``)::

    .venv/bin/python docs/examples/hard_bounces_by_domain.py --out hard_bounces.png

The view keeps its own tables and tracking row, so a second run only reads the new events.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from adapters.sql import Cursor
from api.services import build_services
from api.settings import Settings
from domain.address import Address
from projections.base import Positioned
from projections.tables import LIVE, Names


class HardBouncesByDomainWeek:
    """``hard_bounces_weekly``: (domain, ISO week) -> hard bounces."""

    name = "hard_bounces_by_domain_week"
    # The tables it owns; ``shadow`` gives the same view over a rebuild's copies of them.
    tables = ("hard_bounces_weekly", "hard_bounces_domains")

    def __init__(self, names: Names = LIVE) -> None:
        self.weekly, self.domains = names("hard_bounces_weekly"), names("hard_bounces_domains")

    def shadow(self, names: Names) -> HardBouncesByDomainWeek:
        return HardBouncesByDomainWeek(names)

    def create(self, cur: Cursor) -> None:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {self.weekly} (domain TEXT NOT NULL, "
                    "week TEXT NOT NULL, bounces INTEGER NOT NULL, PRIMARY KEY (domain, week))")
        # Bounce events do not repeat the address: remember each aggregate's domain.
        cur.execute(f"CREATE TABLE IF NOT EXISTS {self.domains} ("
                    "address_id TEXT PRIMARY KEY, domain TEXT NOT NULL)")

    def clear(self, cur: Cursor) -> None:
        cur.execute(f"DELETE FROM {self.weekly}")
        cur.execute(f"DELETE FROM {self.domains}")

    def apply(self, cur: Cursor, events: Sequence[Positioned]) -> None:
        for _, event in events:  # dispatch on the event classes (``Redacted`` is neither)
            key = str(event.originator_id)
            if isinstance(event, Address.Registered):
                cur.execute(f"INSERT INTO {self.domains} VALUES (?, ?) "
                            "ON CONFLICT (address_id) DO NOTHING",
                            (key, event.address.rsplit("@", 1)[1]))
            elif isinstance(event, Address.HardBounced):
                year, week, _ = event.occurred_at.isocalendar()
                cur.execute(f"INSERT INTO {self.weekly} SELECT domain, ?, 1 "
                            f"FROM {self.domains} WHERE address_id = ? "
                            "ON CONFLICT (domain, week) DO UPDATE "
                            f"SET bounces = {self.weekly}.bounces + 1",
                            (f"{year}-W{week:02d}", key))

    def after_commit(self, changes: Any) -> None:
        pass


def weekly(cur: Cursor, top: int = 5) -> dict[str, list[tuple[str, int]]]:
    """The ``top`` domains by hard bounces, each with its weeks in order."""
    cur.execute("SELECT domain FROM hard_bounces_weekly GROUP BY domain "
                "ORDER BY SUM(bounces) DESC, domain LIMIT ?", (top,))
    domains = [row[0] for row in cur.fetchall()]
    result = {}
    for domain in domains:
        cur.execute("SELECT week, bounces FROM hard_bounces_weekly WHERE domain = ? "
                    "ORDER BY week", (domain,))
        result[domain] = [(week, int(count)) for week, count in cur.fetchall()]
    return result


def chart(series: dict[str, list[tuple[str, int]]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    for domain, points in series.items():
        ax.plot([w for w, _ in points], [n for _, n in points], marker="o", label=domain)
    ax.set_ylabel("hard bounces")
    ax.set_title("Hard bounces per recipient domain per week")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(settings: Settings, out: str) -> dict[str, list[tuple[str, int]]]:
    services = build_services(settings)
    try:
        projector = services.projector.with_views([HardBouncesByDomainWeek()])
        projector.create_tables()
        projector.catch_up()  # from the view's tracking position to the log's head
        with services.db.read() as cur:
            series = weekly(cur)
    finally:
        services.close()
    chart(series, out)
    return series


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="hard_bounces.png")
    for domain, points in main(Settings(), parser.parse_args().out).items():
        print(domain, points)
