"""Helpers for the OneRoster tests: the corpus folder, a small bundle builder, a row counter."""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import sqlalchemy as sa

SECRET = "oneroster-test-secret"


def corpus_dir() -> Path | None:
    """../shared/corpus/oneroster next to the repository (or next to any folder above it)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "corpus" / "oneroster"
        if candidate.is_dir():
            return candidate
    return None


def make_zip(files: dict[str, list[list[str]] | str], encoding: str = "utf-8") -> bytes:
    """A bundle from {file name: rows (header first) or raw text}, each file encoded with ``encoding``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            if not isinstance(content, str):
                out = io.StringIO()
                csv.writer(out, lineterminator="\r\n").writerows(content)
                content = out.getvalue()
            zf.writestr(name, content.encode(encoding))
    return buf.getvalue()


def manifest(*files: str, version: str = "1.2", mode: str = "bulk") -> list[list[str]]:
    return [["propertyName", "value"], ["manifest.version", "1.0"], ["oneroster.version", version]] + [
        [f"file.{f}", mode] for f in files]


def count(sess, model, *where) -> int:
    return sess.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
