"""The app square's lifecycle. Transitions, and who may make them:

    submitted --review--> in_review --publish--> published --deprecate--> deprecated --retire--> retired
                          in_review --return---> submitted            deprecated --restore--> published

Review, publish, return, deprecate, retire and restore are the district's (``square.review``); a school
admin submits the school's own low-code apps; promoting a school app to district level is the district's.
Every step records who and why. Code plugins found by the host are listed as submitted on first sight.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.models import AppListing, AppListingStep, PluginInstall

SYSTEM = {"jizuo_all_schools": True}
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
    known = set(sess.scalars(sa.select(AppListing.key).where(AppListing.kind == "plugin"), execution_options=SYSTEM))
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


def reuse(sess: so.Session, listing: AppListing) -> dict[str, int]:
    """How much a listing is reused: schools that installed it (plugins); clones and submissions come with
    the low-code apps."""
    installs = 0
    if listing.kind == "plugin":
        installs = sess.scalar(sa.select(sa.func.count()).select_from(PluginInstall)
                               .where(PluginInstall.plugin == listing.key), execution_options=SYSTEM) or 0
    return {"installs": installs, "clones": 0, "submissions": 0}
