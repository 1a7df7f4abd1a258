"""District-level pages of a plugin. A plugin's blueprint answers only where the caller has a school with the
plugin enabled (``plugin_runtime._gate``); a district person at district level has none, so a page meant for
the district (a supervision dashboard over every school's desensitised figures) says so with
:func:`district_view`. The gate then lets district staff through to that view alone; the view still checks
what it shows (``district.figures.read``) and reads only what the platform desensitises for the district."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

MARK = "jizuo_district_view"


def district_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a plugin view as open to district staff at district level (they reach no school there)."""
    setattr(view, MARK, True)
    return view


def is_district_view(view: Any) -> bool:
    return bool(getattr(view, MARK, False))
