"""Install and purge for one school: the first rulebook version and everyone's starting score; on purge,
the school's rows in every points table."""
from __future__ import annotations

import sqlalchemy as sa

from foundation.plugin_api import session
from plugins.points import rulebook as rb
from plugins.points import standing
from plugins.points.models import TABLES


def install(school_id: int) -> None:
    """Give the school its stage's starting rulebook unless it kept one from an earlier install, then its
    scores."""
    sess = session()
    book = rb.current(sess, school_id)
    if book is None:
        rb.save(sess, school_id, rb.default_for(sess, school_id), account_id=None, name="系统", note="默认细则")
        book = rb.current(sess, school_id)
    standing.rebuild(sess, school_id, rb.term_start(book["body"]), book["body"]["starting_score"])
    standing.refresh(sess, school_id)


def purge(school_id: int) -> None:
    """Delete the school's rows (its admin confirmed the purge when uninstalling)."""
    sess = session()
    for table in TABLES:  # the platform runs this for the one school uninstalling
        sess.execute(sa.delete(table))
