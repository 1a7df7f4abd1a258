"""Reading a bundle: a zip (path, bytes or file object) or a folder of CSV files; the encoding of each
file (UTF-8 with BOM, UTF-8, GB18030, in that order); headers matched to the spec's column names,
tolerating case, whitespace and known typos, each tolerance reported."""
from __future__ import annotations

import csv
import difflib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from foundation.oneroster.report import ImportReport
from foundation.oneroster.spec import EXTRA_KNOWN, HEADERS_12, MANIFEST, NAMES_10, TYPOS, USERS_11

ENCODINGS = ("utf-8-sig", "utf-8", "gb18030")
BUNDLE = "(bundle)"  # the file name of problems with the bundle as a whole

Source = Path | str | bytes | bytearray | IO[bytes]


class BundleError(ValueError):
    """The source is not a readable bundle (not a zip, not a folder)."""


@dataclass
class Row:
    line: int  # the physical line the record starts on; the header is line 1
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass
class Table:
    name: str  # canonical file name, e.g. users.csv
    encoding: str
    header_line: int
    spelled: dict[str, str] = field(default_factory=dict)  # canonical column → as the file spells it
    rows: list[Row] = field(default_factory=list)
    _filled: dict[str, bool] = field(default_factory=dict)

    def any_value(self, column: str) -> bool:
        """Whether any row has a value in ``column`` (computed once)."""
        if column not in self._filled:
            self._filled[column] = any(r.get(column) for r in self.rows)
        return self._filled[column]

    def has(self, column: str) -> bool:
        return column in self.spelled

    def col(self, column: str) -> str:
        return self.spelled.get(column, column)


def open_bundle(source: Source) -> dict[str, tuple[str, bytes]]:
    """lower-cased file name → (its path in the bundle, its bytes). Nested folders are flattened."""
    if isinstance(source, bytes | bytearray):
        return _from_zip(io.BytesIO(bytes(source)))
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_dir():
            out: dict[str, tuple[str, bytes]] = {}
            for f in sorted(path.rglob("*")):
                if f.is_file() and not f.name.startswith("."):
                    out.setdefault(f.name.lower(), (str(f.relative_to(path)), f.read_bytes()))
            return out
        if not path.is_file():
            raise BundleError(f"no such file or folder: {path}")
        with path.open("rb") as fh:
            return _from_zip(fh)
    if hasattr(source, "read"):
        return _from_zip(source)
    raise BundleError(f"cannot read a bundle from {type(source).__name__}")


def _from_zip(fh: IO[bytes]) -> dict[str, tuple[str, bytes]]:
    try:
        zf = zipfile.ZipFile(fh)
    except zipfile.BadZipFile as err:
        raise BundleError(f"not a zip file: {err}") from err
    out: dict[str, tuple[str, bytes]] = {}
    with zf:
        for info in zf.infolist():
            base = info.filename.rsplit("/", 1)[-1]
            if info.is_dir() or not base or base.startswith(".") or "__MACOSX" in info.filename:
                continue
            out.setdefault(base.lower(), (info.filename, zf.read(info)))
    return out


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with a BOM, else strict UTF-8, else GB18030. Raises UnicodeError."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig"), "utf-8-sig"
    for enc in ENCODINGS[1:]:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise UnicodeError("neither UTF-8 nor GB18030")


def known_columns(name: str) -> tuple[str, ...]:
    if name == "manifest.csv":
        return MANIFEST
    cols = HEADERS_12.get(name, ())
    cols += tuple(c for c in EXTRA_KNOWN.get(name, ()) + (USERS_11 if name == "users.csv" else ())
                  if c not in cols)
    return cols


def match_header(raw: str, known: tuple[str, ...], file: str = "") -> tuple[str | None, str | None]:
    """(canonical column or None to ignore it, why it needed tolerance or None when it is exact)."""
    text = raw.replace("\ufeff", "")
    name = text.strip()
    if not name:
        return None, "column has no name; ignored"
    if (old := NAMES_10.get(file, {}).get(name.lower())) is not None and name != old:
        return old, f"OneRoster 1.0 column name: read as {old!r}"
    if name.startswith("metadata."):
        return name, None if name == text else "surrounding whitespace in the column name"
    by_lower = {k.lower(): k for k in known}
    lower = name.lower()
    if name in known:
        return name, None if name == text else "surrounding whitespace in the column name"
    if lower in by_lower:
        return by_lower[lower], f"column name differs in case or spacing: read as {by_lower[lower]!r}"
    if lower in TYPOS and TYPOS[lower] in known:
        return TYPOS[lower], f"misspelled column name: read as {TYPOS[lower]!r}"
    close = difflib.get_close_matches(lower, list(by_lower), n=1, cutoff=0.88)
    if close:
        return by_lower[close[0]], f"unknown column name: read as the close match {by_lower[close[0]]!r}"
    return None, "unknown column; ignored"


def read_table(report: ImportReport, name: str, data: bytes) -> Table | None:
    """Decode and parse one file; header problems become warnings on line 1 (the header's line)."""
    try:
        text, encoding = decode(data)
    except UnicodeError as err:
        report.error(name, None, None, f"cannot decode the file: {err}")
        return None
    report.encodings[name] = encoding
    reader = csv.reader(io.StringIO(text, newline=""))
    known = known_columns(name)
    table: Table | None = None
    positions: list[str | None] = []
    try:
        while True:
            start = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            if not any(v.strip() for v in record):
                continue
            if table is None:
                table = Table(name, encoding, start)
                for i, raw in enumerate(record):
                    canon, why = match_header(raw, known, name)
                    label = raw.strip() or f"(column {i + 1})"
                    if canon is not None and canon in table.spelled:
                        canon, why = None, f"duplicate of column {table.spelled[canon]!r}; ignored"
                    if why:
                        report.warn(name, start, label, why)
                    positions.append(canon)
                    if canon is not None:
                        table.spelled[canon] = raw.strip()
                continue
            values = {c: v.strip() for c, v in zip(positions, record, strict=False) if c is not None}
            extra = [v for v in record[len(positions):] if v.strip()]
            if extra:
                report.warn(name, start, None, f"{len(extra)} value(s) beyond the last column ignored")
            table.rows.append(Row(start, values))
    except csv.Error as err:
        report.error(name, reader.line_num, None, f"malformed CSV: {err}")
    if table is None:
        report.error(name, 1, None, "the file is empty (no header)")
    return table
