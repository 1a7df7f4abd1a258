"""The structural half of the renderer: objects (properties in ui:order, conditional branches, oneOf/anyOf
options) and arrays (rows, the <template> row, Add/Remove buttons)."""
from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup, escape

from foundation.lowcode.render.html import join, tag
from foundation.lowcode.render.schema import (
    ENTRIES,
    OPTION,
    Branch,
    Cond,
    Problem,
    is_objectish,
    localised,
    ordered,
    pointer_escape,
    required_of,
    valid_name,
)
from foundation.lowcode.render.values import MISSING
from foundation.lowcode.render.widgets import Field, choice_group, json_attr, option, select, text


def _any_when(conds: list[Cond]) -> dict | None:
    """One condition for lowcode.js out of several (None when one of them cannot run in the browser)."""
    whens = [c.when for c in conds]
    if not whens or any(w is None for w in whens):
        return None
    return whens[0] if len(whens) == 1 else {"any": whens}


class Structures:
    """Mixed into the renderer, which provides field(), notices(), name(), new_id() and the words."""

    # -- objects ----------------------------------------------------------------------------------------
    def _object(self, fc, schema, ui, widget, path, value, pointer, seen) -> Markup:
        saved, self._locked = self._locked, (fc.disabled, fc.readonly)
        try:
            body = self.object_body(schema, ui, path, value if isinstance(value, dict) else {}, pointer, seen,
                                    title=str(fc.label.striptags()))
        finally:
            self._locked = saved
        return fc.group(body, "object")

    def object_body(self, schema: dict, ui: dict, path: list, values: dict, pointer: str, seen: frozenset,
                    exclude: frozenset = frozenset(), effective: dict | None = None, title: str = "") -> list[Markup]:
        """The properties (in ui:order), each followed by the conditional fields it controls, then the
        oneOf/anyOf options and the remaining conditional fields."""
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = required_of(schema)
        branches, required_if, problems = self.s.conditionals(
            schema, pointer, seen, lambda prop: self.name([*path, prop]))
        out = self.notices(self.object_problems(schema, pointer) + problems, title)
        effective = self.effective(props, ui, values if effective is None else effective, seen)
        anchored: dict[str, list[Branch]] = {}
        loose: list[Branch] = []
        for branch in branches:
            anchor = branch.cond.anchor
            if anchor in props and anchor not in exclude:
                anchored.setdefault(anchor, []).append(branch)
            else:
                loose.append(branch)
        shown = frozenset(exclude | set(props))
        for prop in ordered(list(props), ui.get("ui:order")):
            if prop in exclude:
                continue
            where = f"{pointer}/properties/{pointer_escape(prop)}"
            if not valid_name(prop):
                detail = json.dumps(prop, ensure_ascii=False)
                out += self.notices([Problem(where, "property_name", detail)], prop)
                continue
            conds = [] if prop in required else required_if.get(prop, [])
            now = prop in required or any(c.holds(effective) for c in conds)
            out.append(self.field(props[prop], ui.get(prop), [*path, prop], values.get(prop, MISSING), where,
                                  seen, required=now, required_if=_any_when(conds)))
            out += [self.branch(b, ui, path, values, effective, seen, shown) for b in anchored.get(prop, [])]
        out.append(self.entry_rows(schema, ui, path, values, pointer, seen))
        if isinstance(schema.get("oneOf", schema.get("anyOf")), list):
            out.append(self.options(schema, ui, path, values, effective, pointer, seen, shown))
        out += [self.branch(b, ui, path, values, effective, seen, shown) for b in loose]
        return out

    def object_problems(self, schema: dict, pointer: str) -> list[Problem]:
        problems = []
        _, code = self.s.entries(schema)
        if code:
            problems.append(Problem(f"{pointer}/patternProperties", code))
        if isinstance(schema.get("unevaluatedProperties"), dict) and schema["unevaluatedProperties"]:
            problems.append(Problem(f"{pointer}/unevaluatedProperties", "unevaluated_properties"))
        return problems

    def entry_rows(self, schema: dict, ui: dict, path: list, values: dict, pointer: str, seen: frozenset) -> Markup:
        """Properties with names of the person's choosing, as rows of name + value (``ENTRIES``)."""
        rows, _ = self.s.entries(schema)
        if rows is None:
            return Markup("")
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        where = f"{pointer}/{'patternProperties' if 'patternProperties' in schema else 'additionalProperties'}"
        rows["items"]["properties"]["key"]["title"] = self.words["key"]
        value = dict(rows["items"]["properties"]["value"])
        value.setdefault("title", self.words["value"])
        rows["items"]["properties"]["value"] = value
        rows["title"] = self.words["entry"]
        filled = [{"key": k, "value": v} for k, v in values.items() if k not in props]
        entry_ui = ui.get("ui:entries") if isinstance(ui.get("ui:entries"), dict) else {}
        return self.field(rows, entry_ui, [*path, ENTRIES], filled or MISSING, where, seen)

    def effective(self, props: dict, ui: dict, values: dict, seen: frozenset) -> dict:
        """The object as shown: data, else defaults, else false for a checkbox — what conditions test."""
        out = dict(values)
        for prop, raw in props.items():
            if prop in out:
                continue
            sub, _, _ = self.s.resolve(raw, "", seen)
            prop_ui = ui.get(prop) if isinstance(ui.get(prop), dict) else {}
            if sub and "default" in sub:
                out[prop] = sub["default"]
            elif sub and sub.get("type") == "boolean" and prop_ui.get("ui:widget") in (None, "checkbox"):
                out[prop] = False
        return out

    def branch(self, branch: Branch, ui: dict, path: list, values: dict, effective: dict, seen: frozenset,
               exclude: frozenset) -> Markup:
        visible = branch.cond.holds(effective)
        body = self.object_body(branch.schema, ui, path, values, branch.pointer, seen, exclude, effective)
        if not body:
            return Markup("")
        return tag("fieldset", {"class": "conditional", "data-show-if": json_attr(branch.cond.when),
                                "hidden": not visible, "disabled": not visible}, *body)

    def options(self, schema: dict, ui: dict, path: list, values: dict, effective: dict, pointer: str,
                seen: frozenset, exclude: frozenset) -> Markup:
        """A oneOf/anyOf of object subschemas: a selector, then each option's fields in a fieldset."""
        key = "oneOf" if "oneOf" in schema else "anyOf"
        raws, options = schema[key], []
        for i, raw in enumerate(raws):
            sub, _, problems = self.s.resolve(raw, f"{pointer}/{key}/{i}", seen)
            if sub is None or not is_objectish(sub):
                return join(self.notices([*problems, Problem(f"{pointer}/{key}", "mixed_choice")], ""))
            options.append(sub)
        chosen = self.pick(raws, options, effective)
        titles = [text(localised(o, "title", self.lang)) or self.words["option"].format(n=i + 1) for i, o in enumerate(options)]
        name = self.name([*path, OPTION])
        fc = Field(name=name, id=self.new_id(name), label=escape(self.words["choose_one"]), words=self.words,
                   required=True, soft=self._soft, disabled=self._locked[0], readonly=self._locked[1])
        choices = [(str(i), title, False) for i, title in enumerate(titles)]
        if ui.get("ui:widget") == "radio":
            selector = choice_group(fc, choices, {str(chosen)}, "radio", bool(option(ui, "inline")))
        else:
            selector = fc.wrap(select(fc, choices, {str(chosen)}), "option-select")
        sets = []
        for i, sub in enumerate(options):
            body = self.object_body(sub, ui, path, values, f"{pointer}/{key}/{i}", seen, exclude, effective)
            sets.append(tag("fieldset", {"class": "option", "data-option": str(i),
                                         "data-show-if": json_attr({"field": name, "in": [str(i)]}),
                                         "hidden": i != chosen, "disabled": i != chosen},
                            tag("legend", {}, titles[i]), *body))
        return tag("div", {"class": "options"}, selector, *sets)

    def pick(self, raws: list, options: list[dict], effective: dict) -> int:
        """The option the data matches (first valid one it has values for), else the most overlapping."""
        overlap = [sum(p in effective for p in (o.get("properties") or {})) for o in options]
        for i, raw in enumerate(raws):
            if overlap[i] and self.s.is_valid(raw, effective):
                return i
        return overlap.index(max(overlap)) if max(overlap, default=0) else 0

    # -- arrays -----------------------------------------------------------------------------------------
    def _array(self, fc, schema, ui, widget, path, value, pointer, seen) -> Markup:
        item_ui = ui.get("items") if isinstance(ui.get("items"), dict) else {}
        item, _, _ = self.s.resolve(schema["items"], pointer + "/items", seen)
        item_title = text(item_ui.get("ui:title") or localised(item or {}, "title", self.lang)) or str(fc.label.striptags())
        values = value if isinstance(value, list) else []
        low = schema.get("minItems") if isinstance(schema.get("minItems"), int) else 0
        high = schema.get("maxItems") if isinstance(schema.get("maxItems"), int) else None
        locked = fc.disabled or fc.readonly
        removable = option(ui, "removable") is not False and not locked
        saved, self._locked = self._locked, (fc.disabled, fc.readonly)
        try:
            filled = max(len(values), low)
            rows = [self.row(schema["items"], item_ui, path, i, values[i] if i < len(values) else MISSING,
                             pointer + "/items", seen, item_title, soft=i >= filled, removable=removable)
                    for i in range(max(filled, 1))]
            template = None
            if option(ui, "addable") is not False and not locked:
                template = self.row(schema["items"], item_ui, path, "__index__", MISSING, pointer + "/items", seen,
                                    item_title, template=True, removable=removable)
        finally:
            self._locked = saved
        add = None if template is None else tag(
            "button", {"type": "button", "class": "add", "data-lowcode": "add"},
            self.words["add"], tag("span", {"class": "visually-hidden"}, " ", item_title))
        body = [tag("ol", {"class": "rows", "data-rows": True}, *rows), template, add]
        return fc.group(body, "array", **{"data-array": fc.name, "data-min-items": low or None,
                                          "data-max-items": high})

    def row(self, items: Any, item_ui: dict, path: list, index: Any, value: Any, pointer: str, seen: frozenset,
            item_title: str, *, soft: bool = False, template: bool = False, removable: bool = True) -> Markup:
        saved = (self._soft, self._template, self._ids)
        self._soft = False if template else self._soft or soft  # a row the person adds is never "soft"
        if template:
            self._template, self._ids = True, set()
        try:
            number = tag("span", {"class": "row-number"}, "" if template else str(index + 1))
            label = escape(item_title) + Markup(" ") + number
            inner = self.field(items, item_ui, [*path, index], value, pointer, seen, label=label)
        finally:
            self._soft, self._template, self._ids = saved
        remove = tag("button", {"type": "button", "class": "remove", "data-lowcode": "remove"}, self.words["remove"],
                     tag("span", {"class": "visually-hidden"}, " ", item_title, " ", number)) if removable else None
        row = tag("li", {"class": "row", "data-row": True}, inner, remove)
        return tag("template", {"data-template": True}, row) if template else row
