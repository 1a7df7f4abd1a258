"""Progress on stderr for long commands (demo, ingest): one line per stage, redrawn in place."""
from __future__ import annotations

import sys
import time

import click


class Progress:
    """One line per stage on stderr, redrawn in place: stage, count, percent, rate."""

    def __init__(self, enabled: bool) -> None:
        self.enabled, self.stage, self.start = enabled, None, time.perf_counter()
        self.tty = sys.stderr.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if stage != self.stage:
            if self.stage is not None and self.tty:
                click.echo(file=sys.stderr)
            self.stage, self.start = stage, time.perf_counter()
        if not self.tty and done < total:
            return  # into a log file: one line per finished stage
        pct = 100 * done / total if total else 100
        bar = "#" * int(pct / 4)
        rate = done / max(time.perf_counter() - self.start, 1e-6)
        line = f"{stage:<12} [{bar:<25}] {done:>7}/{total:<7} {pct:5.1f}%  {rate:,.0f}/s"
        if self.tty:
            click.echo("\r" + line, nl=False, file=sys.stderr)
        else:
            click.echo(line, file=sys.stderr)

    def close(self) -> None:
        if self.enabled and self.tty and self.stage is not None:
            click.echo(file=sys.stderr)
