"""Every event the platform publishes is in the catalogue, docs/events.md: those the data standard's
libraries raise, those the code publishes by name, and the alert engine's ``alert.case.<kind>``."""
from __future__ import annotations

import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _standard_events() -> set[str]:
    out = set()
    for path in (ROOT / "standards" / "libraries").glob("*/*.json"):
        out |= {e["event"] for e in json.loads(path.read_text("utf-8")).get("events", [])}
    return out


def _published_in_code() -> set[str]:
    """First arguments of ``publish(...)`` / ``publish_event(...)`` that are dotted names, and the alert
    engine's ``notify.publish("<kind>", …)`` as ``alert.case.<kind>``."""
    out = set()
    for top in ("foundation", "plugins"):
        for path in (ROOT / top).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                fn = node.func
                name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
                arg = node.args[0]
                if name not in ("publish", "publish_event") or not isinstance(arg, ast.Constant) \
                        or not isinstance(arg.value, str):
                    continue
                owner = fn.value.id if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) else ""
                if owner == "notify" and "alerts" in path.parts:
                    out.add(f"alert.case.{arg.value}")
                elif "." in arg.value:
                    out.add(arg.value)
    return out


def test_every_published_event_is_in_the_catalogue():
    catalogue = (ROOT / "docs" / "events.md").read_text("utf-8")
    events = _standard_events() | _published_in_code()
    assert {"lowcode.submission.created", "alert.case.opened", "attendance.late"} <= events  # the scan works
    missing = sorted(e for e in events if f"`{e}`" not in catalogue)
    assert not missing, f"undocumented events (add them to docs/events.md): {missing}"
