"""A school's card system registered as a source, writing with client-credentials tokens."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from foundation.models import DataSource, OrgUnit, Student


class Bearer:
    """The Flask test client with a bearer token (a system integration, not a browser)."""

    def __init__(self, client, token: str) -> None:
        self.client, self.token = client, token

    def _h(self, kw):
        return {"Authorization": f"Bearer {self.token}"} | kw.pop("headers", {})

    def post(self, url, **kw):
        return self.client.post(url, headers=self._h(kw), **kw)

    def get(self, url, **kw):
        return self.client.get(url, headers=self._h(kw), **kw)

    def delete(self, url, **kw):
        return self.client.delete(url, headers=self._h(kw), **kw)


@pytest.fixture
def school_ids(db_session) -> list[int]:
    return sorted(db_session.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == "school")))


@pytest.fixture
def students_of(db_session):
    def _of(school_id: int, n: int = 5) -> list[Student]:
        return list(db_session.scalars(sa.select(Student).where(Student.school_id == school_id)
                                       .order_by(Student.id).limit(n)))
    return _of


@pytest.fixture
def system_client(app, client, make_client, db_session):
    """``system_client(school_id, source_code, scopes)`` → a Bearer for a client registered for that school
    and bound to a registered source."""

    def _make(school_id: int | None, source: str = "card_system", scopes=("cards.write", "cards.read")) -> Bearer:
        reg = make_client(grant_types=["client_credentials"], scopes=list(scopes), redirect_uris=[],
                          school_id=school_id)
        if db_session.scalar(sa.select(DataSource.id).where(DataSource.code == source)) is None:
            db_session.add(DataSource(code=source, name=source, client_id=reg["client_id"]))
        else:
            db_session.execute(sa.update(DataSource).where(DataSource.code == source)
                               .values(client_id=reg["client_id"]))
        db_session.commit()
        resp = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": " ".join(scopes)},
                           auth=(reg["client_id"], reg["client_secret"]))
        assert resp.status_code == 200, resp.get_json()
        return Bearer(client, resp.get_json()["access_token"])

    return _make
