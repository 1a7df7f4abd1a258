"""parse_form: a submitted low-code form back into a JSON document, typed by the schema, ready for
``jsonschema`` validation."""
from __future__ import annotations

import re
from typing import Any

from foundation.lowcode.render.schema import ENTRIES, OPTION, Schemas, required_of, valid_name
from foundation.lowcode.render.values import MISSING, from_local_input, option_value, to_number


def parse_form(schema: dict, form: Any, ui_schema: dict | None = None, *, prefix: str = "f",
               utc_offset: str = "+08:00") -> dict:
    """The document a form rendered by ``render_form`` stands for.

    ``form`` is a MultiDict-like (``getlist``; ``keys``), or a plain dict of strings or lists of strings.
    Integers and numbers are converted (text that is not a number stays text, so the validator reports it),
    checkboxes give booleans, arrays are rebuilt from the indexed names in index order, empty strings,
    blank rows and empty optional objects/arrays are left out, and the fields of a conditional branch or a
    oneOf option only count when the condition holds / the option is chosen.
    """
    return _Parser(schema, form, ui_schema, prefix, utc_offset).parse()

_LOCAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?")


def _blank(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_blank(v) for v in value.values())
    return value is MISSING or value is None or value is False or value == "" or value == []


class _Parser:
    def __init__(self, schema: Any, form: Any, ui_schema: Any, prefix: str, utc_offset: str) -> None:
        self.s = Schemas(schema)
        self.form = form
        self.keys = [str(k) for k in form.keys()]
        self.ui = ui_schema if isinstance(ui_schema, dict) else {}
        self.prefix = prefix
        self.utc_offset = utc_offset

    def name(self, path: list) -> str:
        return ".".join([self.prefix, *map(str, path)])

    def values(self, name: str) -> list[str]:
        if hasattr(self.form, "getlist"):
            return [str(v) for v in self.form.getlist(name)]
        value = self.form.get(name)
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]

    def parse(self) -> dict:
        root, seen, _ = self.s.resolve(self.s.root, "", frozenset())
        return self.object(root, self.ui, [], seen) if root else {}

    def object(self, schema: dict, ui: dict, path: list, seen: frozenset, out: dict | None = None) -> dict:
        out = {} if out is None else out
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = required_of(schema)
        for prop, raw in props.items():
            if prop in out or not valid_name(prop):
                continue
            value = self.value(raw, ui.get(prop), [*path, prop], seen, prop in required)
            if value is not MISSING:
                out[prop] = value
        rows, _ = self.s.entries(schema)
        if rows is not None:
            for row in self.rows(rows["items"], None, [*path, ENTRIES], seen):
                if isinstance(row, dict) and isinstance(row.get("key"), str) and "value" in row \
                        and row["key"] not in props and row["key"] not in out:
                    out[row["key"]] = row["value"]
        options = schema.get("oneOf", schema.get("anyOf"))
        chosen = self.values(self.name([*path, OPTION]))
        if isinstance(options, list) and chosen and chosen[-1].isdigit() and int(chosen[-1]) < len(options):
            option, option_seen, _ = self.s.resolve(options[int(chosen[-1])], "", seen)
            if option:
                self.object(option, ui, path, option_seen, out)
        branches, _, _ = self.s.conditionals(schema, "", seen, lambda prop: self.name([*path, prop]))
        for branch in branches:
            if branch.cond.holds(out):
                self.object(branch.schema, ui, path, seen, out)
        return out

    def value(self, raw: Any, ui: Any, path: list, seen: frozenset, required: bool) -> Any:
        ui = ui if isinstance(ui, dict) else {}
        schema, seen, _ = self.s.resolve(raw, "", seen)
        if schema is None:
            return MISSING
        kind, _ = self.s.kind_of(schema, "", seen)
        name = self.name(path)
        if kind == "object":
            found = self.object(schema, ui, path, seen)
            return found if found or required else MISSING
        if kind == "multi":
            item, _, _ = self.s.resolve(schema["items"], "", seen)
            picked = [self.typed(item or {}, "enum" if "x-jizuo-binding" not in (item or {}) else "binding", v)
                      for v in self.values(name) if v != ""]
            return picked if picked or required else MISSING
        if kind == "array":
            items = self.rows(schema["items"], ui.get("items"), path, seen)
            return items if items or required else MISSING
        if kind == "choice":
            _, alternatives = self.s.alternatives(schema)
            picked = self.values(self.name([*path, OPTION]))
            index = int(picked[-1]) if picked and picked[-1].isdigit() and int(picked[-1]) < len(alternatives) else 0
            return self.value(alternatives[index], ui, path, seen, required) if alternatives else MISSING
        if kind == "tuple":
            found = []
            item_uis = ui.get("items") if isinstance(ui.get("items"), list) else []
            for i, position in enumerate(self.s.positions(schema)):
                found.append(self.value(position, item_uis[i] if i < len(item_uis) else None, [*path, i], seen, False))
            while found and found[-1] is MISSING:
                found.pop()  # blank positions at the end: a shorter list
            found = ["" if v is MISSING else v for v in found]  # a blank one before a filled one: said to the person
            return found if found or required else MISSING
        if kind == "unsupported":
            return MISSING
        submitted = self.values(name)
        if not submitted or submitted[-1] == "":  # a checkbox's value comes after its hidden "false"
            return MISSING
        return self.typed(schema, kind, submitted[-1])

    def rows(self, items: Any, ui: Any, path: list, seen: frozenset) -> list:
        start = self.name(path) + "."
        indexes = sorted({int(segment) for key in self.keys if key.startswith(start)
                          for segment in [key[len(start):].split(".", 1)[0]] if segment.isdigit()})
        out = []
        for index in indexes:
            value = self.value(items, ui, [*path, index], seen, True)
            if not (isinstance(value, dict) and _blank(value)) and value is not MISSING:
                out.append(value)
        return out

    def typed(self, schema: dict, kind: str, text: str) -> Any:
        if kind in ("integer", "number"):
            return to_number(text, kind == "integer")
        if kind == "boolean":
            return {"true": True, "false": False, "on": True}.get(text, text)
        if kind in ("enum", "const"):
            for value, _ in self.s.choices(schema, frozenset()):
                if option_value(value) == text:
                    return value
            return text
        if kind == "string" and schema.get("format") == "date-time" and _LOCAL.fullmatch(text):
            return from_local_input(text, self.utc_offset)  # <input type=datetime-local> has no offset
        return text
