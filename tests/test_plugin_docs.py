"""Every hook and every schema is documented (as datasette checks its hooks)."""
from __future__ import annotations

import inspect
from pathlib import Path

from foundation import hookspecs

ROOT = Path(__file__).resolve().parents[1]


def test_every_hook_is_documented_in_the_plugin_guide_and_has_a_docstring():
    guide = (ROOT / "docs" / "plugins.md").read_text("utf-8")
    hooks = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("jizuo_")]
    assert len(hooks) >= 15
    for name in hooks:
        assert f"`{name}`" in guide, f"{name} is not in docs/plugins.md"
        assert (getattr(hookspecs, name).__doc__ or "").strip(), f"{name} has no docstring"


def test_every_schema_is_named_in_the_docs():
    docs = " ".join(p.read_text("utf-8") for p in (ROOT / "docs").glob("*.md"))
    for schema in (ROOT / "schemas").glob("*.json"):
        assert schema.name in docs, f"schemas/{schema.name} is not described in docs/"
