"""Where a form comes from: the template it descends from through any chain of clones (events carry it, so
a plugin knows its own form's copies, and its own flows: ``flow:<key>``); and its latest version."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import FormVersion, LowcodeForm
from foundation.tenancy import unscoped

# a form's lineage may pass through a form of another school (cloned while it was visible, then promoted)
LINEAGE = unscoped("a form's template is found through its lineage, which may pass through another school's form")


def root_template(sess: so.Session, form: LowcodeForm) -> str | None:
    """The template a form descends from (through its clones), so a plugin knows its own form's copies."""
    seen = 0
    while form is not None and seen < 20:
        if form.template_key and not form.template_key.startswith("promoted:"):
            return form.template_key
        if form.parent_form_id is None:
            return None
        form = sess.scalar(sa.select(LowcodeForm).where(LowcodeForm.id == form.parent_form_id),
                           execution_options=LINEAGE)
        seen += 1
    return None


def latest(sess: so.Session, form_id: int) -> FormVersion | None:
    """The form's newest version (draft or published)."""
    return sess.scalar(sa.select(FormVersion).where(FormVersion.form_id == form_id)
                       .order_by(FormVersion.version.desc()).limit(1))
