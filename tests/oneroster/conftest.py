"""Fixtures for the OneRoster tests: the two real bundles of the shared corpus (skipped when the corpus
is not there) and a fresh migrated database."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from foundation.db import make_engine
from foundation.migrate import upgrade
from foundation.tenancy import unscoped
from tests.oneroster.support import corpus_dir


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
    with unscoped("test setup").session(fresh_engine) as sess:
        yield sess
