"""A cockpit table as the bureau takes it away: CSV (UTF-8 with a BOM, which Excel opens as such) or an
Excel workbook (openpyxl), with exactly the cells the page shows — a hidden cell is "*" in the file too (one
mark for every hidden cell: telling the small ones from their complements would help work them out)."""
from __future__ import annotations

import csv
import io
from typing import Any

HIDDEN = "*"


def rows_of(table: dict[str, Any], lang: str) -> list[list[Any]]:
    """Header, one row per school (or grade and class), the totals' row."""
    words = {"zh": ("合计", "均值", "下限", "上限"), "en": ("Total", "mean", "low", "high")}[lang]
    head = [table["title"]]
    for col in table["columns"]:
        head.append(col)
        if table["has_value"]:
            head.append(f"{col} {words[1]}")
        if table["has_interval"]:
            head += [f"{col} {words[2]}", f"{col} {words[3]}"]
    head.append(words[0])
    out = [head]
    for row in [*table["rows"], *([table["foot"]] if table["foot"] else [])]:
        line = [row["label"]]
        for c in row["cells"]:
            line.append(HIDDEN if c["hidden"] else c["count"])
            if table["has_value"]:
                line.append(HIDDEN if c["hidden"] else c["value"])
            if table["has_interval"]:
                line += [HIDDEN if c["hidden"] else c["low"], HIDDEN if c["hidden"] else c["high"]]
        line.append(HIDDEN if row["total"] is None else row["total"])
        out.append(line)
    return out


def csv_bytes(lines: list[list[Any]]) -> bytes:
    """Rows as CSV in UTF-8 with a BOM (Excel opens it as such), no cell starting a formula."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for line in lines:
        writer.writerow(["" if v is None else _safe(v) for v in line])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def xlsx_bytes(lines: list[list[Any]], title: str, notes: list[str] = (), width: int = 24) -> bytes:
    """Rows as an Excel workbook: the first row bold, then a blank row and the notes under the table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    for line in lines:
        ws.append([_safe(v) for v in line])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    if notes:
        ws.append([])
        for note in notes:
            ws.append([note])
    ws.column_dimensions["A"].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_csv(table: dict[str, Any], lang: str) -> bytes:
    return csv_bytes(rows_of(table, lang))


def to_xlsx(table: dict[str, Any], lang: str, note: str) -> bytes:
    legend = {"zh": "* 表示已隐去：该格少于 5 人，或可由其他格子和合计推算出。",
              "en": "* hidden: fewer than 5, or derivable from the other cells and the totals."}[lang]
    return xlsx_bytes(rows_of(table, lang), table["key"].replace(".", "_"),
                      [note, legend] if table["suppressed"] else [note])


def _safe(value: Any) -> Any:
    """No cell starts a formula in the spreadsheet that opens it (school names come from the registry)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and value != HIDDEN:
        return "'" + value
    return value
