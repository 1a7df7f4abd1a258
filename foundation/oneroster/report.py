"""What an import did: counts per entity, problems with their file / line / column, encodings."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

COUNT_KEYS = ("created", "updated", "unchanged", "skipped")
# the order counts are shown in; other keys per entity: linked (an existing row newly mapped to its
# sourcedId), conflicts (elements held back by the authority rules), deactivated, removed
ENTITIES = ("district", "school", "department", "grade", "course", "class", "academicSession", "user", "role",
            "student", "staff", "guardian", "guardian_link", "enrollment", "account", "assignment")


class Issue(NamedTuple):
    """One problem. ``line`` is 1-based with the header on line 1 (None: the whole bundle);
    ``column`` is the column as the file spells it (None: the whole row or file)."""

    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "") + (f" [{self.column}]" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    version: str | None = None  # OneRoster version the bundle was read as ("1.1" / "1.2")
    encodings: dict[str, str] = field(default_factory=dict)  # file → "utf-8-sig" | "utf-8" | "gb18030"
    modes: dict[str, str] = field(default_factory=dict)  # file → bulk | delta (from the manifest)
    counts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: dict.fromkeys(COUNT_KEYS, 0)))
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)
    applied: bool = True  # False when ``atomic`` and there were errors: nothing was written
    atomic: bool = False

    def error(self, file: str, line: int | None, column: str | None, message: str) -> None:
        self.errors.append(Issue(file, line, column, message))

    def warn(self, file: str, line: int | None, column: str | None, message: str) -> None:
        self.warnings.append(Issue(file, line, column, message))

    def count(self, entity: str, what: str, n: int = 1) -> None:
        self.counts[entity][what] = self.counts[entity].get(what, 0) + n

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        """Counts only when something was written (an import that stopped wrote nothing to count)."""
        return {
            "version": self.version, "applied": self.applied, "encodings": dict(self.encodings),
            "modes": dict(self.modes),
            "counts": {k: dict(self.counts[k]) for k in self._order()} if self.applied else {},
            "errors": [i._asdict() for i in self.errors], "warnings": [i._asdict() for i in self.warnings],
            "ignored_files": list(self.ignored_files),
        }

    def _order(self) -> list[str]:
        rank = {e: i for i, e in enumerate(ENTITIES)}
        return sorted(self.counts, key=lambda e: rank.get(e, len(rank)))

    def summary(self) -> str:
        lines = [f"OneRoster {self.version or '?'}"]
        if not self.applied:
            lines.append(f"  nothing was written: {len(self.errors)} error(s) stopped the import"
                         + (" (--atomic writes all or nothing)" if self.atomic else ""))
        for entity in self._order() if self.applied else ():
            c = self.counts[entity]
            lines.append(f"  {entity:<16} " + "  ".join(f"{k} {v}" for k, v in c.items()))
        lines.append(f"  errors {len(self.errors)}, warnings {len(self.warnings)}")
        return "\n".join(lines)
