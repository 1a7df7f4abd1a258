"""The app square's lifecycle. Transitions, and who may make them:

    submitted --review--> in_review --publish--> published --deprecate--> deprecated --retire--> retired
                          in_review --return---> submitted            deprecated --restore--> published

Review, publish, return, deprecate, retire and restore are the district's (``square.review``); a school
admin submits the school's own low-code apps; promoting a school app to district level is the district's.
Every step records who and why. Code plugins found by the host are listed as submitted on first sight.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.models import AppListing, AppListingStep, LowcodeForm, PluginInstall, Submission
from foundation.tenancy import unscoped

# the square is the district's: an app's reuse is counted over every school, and promoting reads a school's app
SQUARE = unscoped("the app square counts an app's reuse in every school and promotes a school's app")
TRANSITIONS = {
    "review": ("submitted", "in_review"),
    "publish": ("in_review", "published"),
    "return": ("in_review", "submitted"),
    "deprecate": ("published", "deprecated"),
    "restore": ("deprecated", "published"),
    "retire": ("deprecated", "retired"),
}
NEEDS_REASON = {"return", "deprecate", "retire"}


class SquareError(ValueError):
    def __init__(self, field: str, key: str) -> None:
        super().__init__(key)
        self.field, self.key = field, key


def list_plugins(sess: so.Session, loaded: dict[str, Any]) -> None:
    """Make sure every plugin the host loaded has a listing (submitted, awaiting the district's review)."""
    known = set(sess.scalars(sa.select(AppListing.key).where(AppListing.kind == "plugin")))
    for name, plugin in loaded.items():
        if name in known:
            continue
        m = plugin.manifest
        row = AppListing(kind="plugin", key=name, title=m["title"], description=m["description"],
                         version=m["version"], status="submitted", level="district")
        sess.add(row)
        sess.flush()
        sess.add(AppListingStep(listing_id=row.id, action="submit", to_status="submitted", by_name="plugin host",
                                reason=plugin.origin))


def step(sess: so.Session, listing: AppListing, action: str, *, account_id: int | None, name: str,
         reason: str | None) -> AppListing:
    if action == "promote":
        if listing.level == "district" or listing.status != "published":
            raise SquareError("action", "square.cannot_promote")
        listing.level, before = "district", listing.status
        if listing.kind == "lowcode":
            _promote_app(sess, int(listing.key), account_id)
    else:
        if action not in TRANSITIONS:
            raise SquareError("action", "square.unknown_action")
        before, after = TRANSITIONS[action]
        if listing.status != before:
            raise SquareError("action", "square.wrong_status")
        if action in NEEDS_REASON and not (reason or "").strip():
            raise SquareError("reason", "square.reason_required")
        listing.status = after
    listing.updated_at = utcnow()
    sess.add(AppListingStep(listing_id=listing.id, action=action, from_status=before, to_status=listing.status,
                            by_account=account_id, by_name=name, reason=(reason or "").strip()[:300] or None))
    return listing


def _promote_app(sess: so.Session, form_id: int, account_id: int | None) -> None:
    """A promoted school app becomes a district-level published copy every school can clone."""
    from foundation.lowcode import forms

    source = sess.scalar(sa.select(LowcodeForm).where(LowcodeForm.id == form_id), execution_options=SQUARE)
    if source is None:
        raise SquareError("key", "square.app_gone")
    copy = forms.clone(sess, source, school_id=None, account_id=account_id)
    copy.template_key = f"promoted:{form_id}"
    forms.publish(sess, copy, account_id)


def _family(sess: so.Session, form_id: int) -> tuple[set[int], set[int]]:
    """(the app and its district copy, the schools' clones of either)."""
    own = {form_id} | set(sess.scalars(sa.select(LowcodeForm.id).where(
        LowcodeForm.template_key == f"promoted:{form_id}"), execution_options=SQUARE))
    clones = set(sess.scalars(sa.select(LowcodeForm.id).where(LowcodeForm.parent_form_id.in_(own),
                                                              LowcodeForm.id.not_in(own)),
                              execution_options=SQUARE))
    return own, clones


def reuse(sess: so.Session, listing: AppListing) -> dict[str, int]:
    """How much a listing is reused: schools that installed it (plugins); for a low-code app, clones by
    schools, submissions and active users (distinct submitters in the last 30 days) across the app and
    its clones."""
    out = {"installs": 0, "clones": 0, "submissions": 0, "active_users": 0}
    if listing.kind == "plugin":
        out["installs"] = sess.scalar(sa.select(sa.func.count()).select_from(PluginInstall)
                                      .where(PluginInstall.plugin == listing.key), execution_options=SQUARE) or 0
    elif listing.key.isdigit():
        own, clones = _family(sess, int(listing.key))
        ids = own | clones
        out["clones"] = len(clones)
        out["installs"] = len(set(sess.scalars(sa.select(LowcodeForm.school_id).where(
            LowcodeForm.id.in_(clones), LowcodeForm.school_id.is_not(None)), execution_options=SQUARE)))
        out["submissions"] = sess.scalar(sa.select(sa.func.count()).select_from(Submission).where(
            Submission.form_id.in_(ids)), execution_options=SQUARE) or 0
        out["active_users"] = sess.scalar(sa.select(sa.func.count(sa.distinct(Submission.submitted_by))).where(
            Submission.form_id.in_(ids), Submission.created_at >= utcnow() - timedelta(days=30)),
            execution_options=SQUARE) or 0
    return out


def list_app(sess: so.Session, form: LowcodeForm, version: int, *, account_id: int | None, name: str,
             description: dict) -> AppListing:
    """A school submits its low-code app to the square (school level, awaiting the district's review)."""
    exists = sess.scalar(sa.select(AppListing).where(AppListing.kind == "lowcode", AppListing.key == str(form.id)))
    if exists is not None:
        raise SquareError("form", "square.already_listed")
    row = AppListing(kind="lowcode", key=str(form.id), title=form.title, description=description,
                     version=str(version), status="submitted", level="school", owner_school_id=form.school_id,
                     submitted_by=account_id)
    sess.add(row)
    sess.flush()
    sess.add(AppListingStep(listing_id=row.id, action="submit", to_status="submitted", by_account=account_id,
                            by_name=name))
    return row
