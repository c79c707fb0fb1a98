"""One Rich progress bar for long commands (on stderr): bar, counts, rate and ETA."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

Report = Callable[[int, int], None]


class RateColumn(ProgressColumn):
    """Events per second over the recent window."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} ev/s" if speed else "- ev/s", style="cyan")


@contextmanager
def progress_bar(console: Console, label: str) -> Iterator[Report]:
    """Yields ``report(done, total)``; the bar disappears when the work ends."""
    columns = (TextColumn("{task.description}"), BarColumn(bar_width=24), MofNCompleteColumn(),
               RateColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=None)
        first: list[int] = []

        def report(done: int, total: int) -> None:
            # Count from where this run started, so a resumed rebuild shows its own rate.
            if not first:
                first.append(done)
                progress.update(task, total=max(total - done, 1), completed=0)
                return
            progress.update(task, total=max(total - first[0], 1), completed=done - first[0])

        yield report
