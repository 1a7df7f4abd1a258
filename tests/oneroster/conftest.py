"""Fixtures for the OneRoster tests: the two real bundles of the shared corpus (skipped when the corpus
is not there), a fresh migrated database, and a small bundle builder."""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from foundation.db import make_engine
from foundation.migrate import upgrade
from foundation.tenancy import system_session

SECRET = "oneroster-test-secret"


def corpus_dir() -> Path | None:
    """../shared/corpus/oneroster next to the repository (or next to any folder above it)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "corpus" / "oneroster"
        if candidate.is_dir():
            return candidate
    return None


def _bundle(name: str) -> Path:
    folder = corpus_dir()
    if folder is None or not (folder / name).is_file():
        pytest.skip(f"the OneRoster corpus ({name}) is not in ../shared/corpus/oneroster")
    return folder / name


@pytest.fixture
def clean_zip() -> Path:
    return _bundle("oneroster_test_data.zip")


@pytest.fixture
def messy_zip() -> Path:
    return _bundle("v1p2_full_dataset.zip")


@pytest.fixture
def fresh_engine(tmp_path) -> Iterator[sa.Engine]:
    """A freshly migrated, empty SQLite database."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def fresh(fresh_engine):
    with system_session(fresh_engine) as sess:
        yield sess


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
