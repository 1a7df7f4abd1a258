"""render_form: a low-code form (JSON Schema draft 2020-12 + a react-jsonschema-form style UI schema) as
accessible, server-rendered HTML. The package docstring (foundation/lowcode/render/__init__.py) lists what is supported."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from foundation.lowcode.render.html import join, problem_key, reason, tag, words_for
from foundation.lowcode.render.schema import BINDINGS, OPTION, Problem, Schemas, localised, valid_name
from foundation.lowcode.render.structure import Structures
from foundation.lowcode.render.values import MISSING, option_value
from foundation.lowcode.render.widgets import (
    KNOWN_WIDGETS,
    WIDGETS,
    Choice,
    Field,
    checkbox,
    choice_group,
    json_attr,
    number_input,
    option,
    select,
    selected_values,
    text,
    text_input,
    textarea,
)


@dataclass
class RenderResult:
    html: Markup  # the fields, without <form> and without a CSRF field
    unsupported: list[str]  # "<JSON pointer into the schema>: <reason>", each also shown as a notice in html
    problems: dict[str, str]  # "<JSON pointer>" → catalogue key (lowcode.unsupported.<code>[:detail]): the publish check

    def __html__(self) -> str:
        return self.html


def render_form(schema: dict, ui_schema: dict | None = None, data: dict | None = None, *,
                errors: dict[str, str] | None = None, lang: str = "zh",
                pickers: dict[str, list[tuple[str, str]]] | None = None, prefix: str = "f",
                utc_offset: str = "+08:00") -> RenderResult:
    """The form's fields as HTML. ``errors`` maps dotted paths ("address.city", "items.0.name") to messages;
    ``pickers`` maps a binding ("student", "class", "staff") to the (value, label) pairs the person may
    pick; date-times are shown in ``utc_offset``."""
    return _Renderer(schema, ui_schema, errors, lang, pickers, prefix, utc_offset).render(data)


class _Renderer(Structures):
    def __init__(self, schema: Any, ui_schema: Any, errors: Any, lang: str, pickers: Any, prefix: str,
                 utc_offset: str) -> None:
        if not valid_name(prefix):
            raise ValueError(f"prefix {prefix!r} cannot start a field name")
        self.s = Schemas(schema)
        self.ui = ui_schema if isinstance(ui_schema, dict) else {}
        self.errors = {str(k): str(v) for k, v in (errors or {}).items()}
        self.lang, self.words = words_for(lang)
        self.pickers = pickers or {}
        self.prefix = prefix
        self.utc_offset = utc_offset
        self.unsupported: list[str] = []
        self.problems: dict[str, str] = {}
        self._ids: set[str] = set()
        self._matched: dict[str, tuple[str, str]] = {}  # error path -> (field id, field title)
        self._template = False  # inside a <template> row: no errors, an id space of its own
        self._soft = False  # inside a blank padding row
        self._locked = (False, False)  # inherited ui:disabled, ui:readonly

    # -- the whole form --------------------------------------------------------------------------------
    def render(self, data: Any) -> RenderResult:
        root, seen, problems = self.s.resolve(self.s.root, "", frozenset())
        if root is not None and self.s.kind_of(root, "", seen)[0] != "object":
            problems, root = [*problems, Problem("", "root")], None
        body: list[Any] = []
        if root is not None:
            description = text(self.ui.get("ui:description", localised(root, "description", self.lang)))
            if description:
                body.append(tag("p", {"class": "form-description"}, description))
        body += self.notices(problems, "")
        if root is not None:
            body += self.notices(self.field_problems(root, self.ui, "", "object"), "")
            values = data if isinstance(data, dict) else root.get("default")
            values = values if isinstance(values, dict) else {}
            body += self.object_body(root, self.ui, [], values, "", seen)
        html = tag("div", {"class": "lowcode-form", "data-lowcode-form": True}, self.summary(), *body)
        return RenderResult(html, list(dict.fromkeys(self.unsupported)), self.problems)

    def summary(self) -> Markup:
        if not self.errors:
            return Markup("")
        colon = "：" if self.lang == "zh" else ": "
        items = []
        for key, message in self.errors.items():
            if key in self._matched:
                field_id, title = self._matched[key]
                items.append(tag("li", {}, tag("a", {"href": "#" + field_id}, title, colon, message)))
            else:
                items.append(tag("li", {}, f"{key}{colon}" if key else "", message))
        return tag("div", {"class": "error-summary", "role": "alert"},
                   tag("p", {}, self.words["summary"]), tag("ul", {}, *items))

    def notices(self, problems: list[Problem], label: str) -> list[Markup]:
        out = []
        for problem in problems:
            where = problem.pointer or "/"
            self.unsupported.append(f"{where}: {reason(problem.code, problem.detail, 'en')}")
            self.problems.setdefault(where, problem_key(problem.code, problem.detail))
            why = reason(problem.code, problem.detail, self.lang)
            what = f"{label}{'：' if self.lang == 'zh' else ': '}{why}" if label else why
            out.append(tag("p", {"class": "unsupported", "role": "note", "data-pointer": where}, what))
        return out

    # -- names ----------------------------------------------------------------------------------------
    def name(self, path: list) -> str:
        return ".".join([self.prefix, *map(str, path)])

    def new_id(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self._ids:  # the same property in then and else, or in two oneOf options
            n += 1
            candidate = f"{name}~{n}"
        self._ids.add(candidate)
        return candidate

    # -- one field ------------------------------------------------------------------------------------
    def field(self, raw: Any, ui: Any, path: list, value: Any, pointer: str, seen: frozenset, *,
              required: bool = False, required_if: dict | None = None, label: Markup | None = None) -> Markup:
        ui = ui if isinstance(ui, dict) else {}
        schema, seen, problems = self.s.resolve(raw, pointer, seen)
        title = self.title(schema or {}, ui, path)
        if schema is None:
            return join(self.notices(problems, title))
        kind, detail = self.s.kind_of(schema, pointer, seen)
        if kind == "unsupported":
            code, _, extra = detail.partition(":")
            return join(self.notices([*problems, Problem(pointer, code, extra)], title))
        problems += self.field_problems(schema, ui, pointer, kind)
        widget = ui.get("ui:widget")
        if widget is not None and (not isinstance(widget, str) or widget not in WIDGETS[kind]):
            known = isinstance(widget, str) and widget in KNOWN_WIDGETS
            shown = widget if isinstance(widget, str) else type(widget).__name__
            problems.append(Problem(pointer, "widget_mismatch" if known else "unknown_widget", shown))
            widget = None
        if value is MISSING:
            value = schema.get("default", MISSING)
        fc = self.field_ctx(schema, ui, path, title, label, required and kind != "object", required_if)
        fc.notices = self.notices(problems, title)
        return getattr(self, "_" + kind)(fc, schema, ui, widget, path, value, pointer, seen)

    def title(self, schema: dict, ui: dict, path: list) -> str:
        return text(ui.get("ui:title", localised(schema, "title", self.lang))) or (str(path[-1]) if path else "")

    def field_ctx(self, schema: dict, ui: dict, path: list, title: str, label: Markup | None, required: bool,
                  required_if: dict | None) -> Field:
        name = self.name(path)
        field_id = self.new_id(name)
        key = ".".join(map(str, path))
        error = None
        if not self._template and key in self.errors:
            error = self.errors[key]
            self._matched.setdefault(key, (field_id, title))
        return Field(
            name=name, id=field_id, label=label if label is not None else escape(title), words=self.words,
            description=text(ui.get("ui:description", localised(schema, "description", self.lang))),
            help=text(ui.get("ui:help")),
            error=error, required=required, required_if=required_if, soft=self._soft,
            disabled=self._locked[0] or bool(ui.get("ui:disabled")),
            readonly=self._locked[1] or bool(ui.get("ui:readonly")) or schema.get("readOnly") is True,
            autofocus=bool(ui.get("ui:autofocus")), placeholder=text(ui.get("ui:placeholder")),
            classes=text(ui.get("ui:classNames")) or "", hide_label=option(ui, "label") is False)

    def field_problems(self, schema: dict, ui: dict, pointer: str, kind: str) -> list[Problem]:
        problems = []
        if "not" in schema:
            problems.append(Problem(pointer + "/not", "not"))
        if "contentEncoding" in schema or "contentMediaType" in schema:
            problems.append(Problem(pointer, "content"))
        if schema.get("format") == "data-url" or ui.get("ui:widget") in ("file", "files"):
            problems.append(Problem(pointer, "file"))
        for key in ui:
            if key == "ui:field" or (key.startswith("ui:") and key.endswith("Template")):
                problems.append(Problem(pointer, "ui_field", key))
        if kind in ("array", "multi"):
            if "contains" in schema:
                problems.append(Problem(pointer + "/contains", "contains"))
            if isinstance(schema.get("unevaluatedItems"), dict) and schema["unevaluatedItems"]:
                problems.append(Problem(pointer + "/unevaluatedItems", "unevaluated_items"))
        if kind == "binding" and schema["x-jizuo-binding"] not in BINDINGS:
            problems.append(Problem(pointer + "/x-jizuo-binding", "binding",
                                    json.dumps(schema["x-jizuo-binding"], ensure_ascii=False)))
        return problems

    def choices(self, schema: dict, ui: dict, seen: frozenset, boolean: bool = False) -> list[Choice]:
        pairs = self.s.choices(schema, seen, self.lang)
        if boolean and not ("enum" in schema or "oneOf" in schema or "anyOf" in schema):
            pairs = [(True, None), (False, None)]
        names, off = option(ui, "enumNames"), option(ui, "enumDisabled")
        out = []
        for i, (value, title) in enumerate(pairs):
            label = names[i] if isinstance(names, list) and i < len(names) else title
            if label is None:
                label = (self.words["yes" if value else "no"] if isinstance(value, bool)
                         else value if isinstance(value, str) else option_value(value))
            out.append((option_value(value), str(label), isinstance(off, list) and value in off))
        return out

    def picker(self, fc: Field, binding: Any, value: Any) -> tuple[list[Choice], set[str]]:
        """The (value, label) pairs the caller allows for a binding; notices for none and for a lost value."""
        pairs = self.pickers.get(binding, []) if binding in BINDINGS else []
        choices = [(str(v), str(label), False) for v, label in pairs]
        if binding in BINDINGS and not choices:
            none = self.words["no_options"].format(what=self.words[binding])
            fc.notices.append(tag("p", {"class": "notice", "role": "note"}, none))
        selected = selected_values(value)
        if selected - {v for v, _, _ in choices}:
            fc.notices.append(tag("p", {"class": "notice", "role": "note"}, self.words["not_in_options"]))
        return choices, selected & {v for v, _, _ in choices}

    # -- scalar kinds -----------------------------------------------------------------------------------
    def _hidden(self, fc: Field, value: str) -> Markup:
        return tag("input", {"type": "hidden", "name": fc.name, "value": value}) + join(fc.after())

    def _string(self, fc, schema, ui, widget, path, value, pointer, seen) -> Markup:
        if widget == "hidden":
            return self._hidden(fc, "" if value is MISSING or value is None else str(value))
        if widget == "textarea":
            return fc.wrap(textarea(fc, schema, value, option(ui, "rows")), "string")
        return fc.wrap(text_input(fc, schema, widget, value, self.utc_offset), "string")

    def _number(self, fc, schema, ui, widget, path, value, pointer, seen, integer: bool = False) -> Markup:
        if widget == "hidden":
            return self._hidden(fc, "" if value is MISSING else option_value(value))
        return fc.wrap(number_input(fc, schema, integer, widget, value), "integer" if integer else "number")

    def _integer(self, *args) -> Markup:
        return self._number(*args, integer=True)

    def _boolean(self, fc, schema, ui, widget, path, value, pointer, seen) -> Markup:
        choices = self.choices(schema, ui, seen, boolean=True)
        if widget == "radio":
            return choice_group(fc, choices, selected_values(value), "radio", bool(option(ui, "inline")))
        if widget == "select":
            return fc.wrap(select(fc, choices, selected_values(value)), "boolean")
        if widget == "hidden":
            return self._hidden(fc, "" if value is MISSING else option_value(value))
        return checkbox(fc, value is True, False)

    def _enum(self, fc, schema, ui, widget, path, value, pointer, seen) -> Markup:
        choices, selected = self.choices(schema, ui, seen), selected_values(value)
        if widget == "radio":
            return choice_group(fc, choices, selected, "radio", bool(option(ui, "inline")))
        if widget == "hidden":
            return self._hidden(fc, next(iter(selected), ""))
        return fc.wrap(select(fc, choices, selected), "enum")

    def _const(self, fc, schema, ui, widget, path, value, pointer, seen) -> Markup:
        """A fixed value (``const``, a one-value ``enum``): sent hidden, shown as text when the field has a title."""
        fixed = self.choices(schema, ui, seen)[0]
        hidden = self._hidden(fc, fixed[0])
        if widget == "hidden" or not (localised(schema, "title", self.lang) or ui.get("ui:title")):
            return hidden
        shown = fixed[1]
        return tag("div", fc.outer("const"), tag("span", {"class": "label"}, fc.label), " ",
                   tag("span", {"class": "value"}, shown), hidden)

    def _binding(self, fc, schema, ui, widget, path, value, pointer, seen) -> Markup:
        choices, selected = self.picker(fc, schema["x-jizuo-binding"], value)
        if widget == "hidden":
            return self._hidden(fc, next(iter(selected), ""))
        return fc.wrap(select(fc, choices, selected), "binding")

    def _multi(self, fc, schema, ui, widget, path, value, pointer, seen) -> Markup:
        item, _, _ = self.s.resolve(schema["items"], pointer + "/items", seen)
        item_ui = ui.get("items") if isinstance(ui.get("items"), dict) else {}
        if "x-jizuo-binding" in item:
            choices, selected = self.picker(fc, item["x-jizuo-binding"], value)
        else:
            names = {k: v for k, v in ui.items() if k in ("ui:enumNames", "ui:enumDisabled", "ui:options")}
            choices, selected = self.choices(item, {**names, **item_ui}, seen), selected_values(value)
        if widget == "select":
            return fc.wrap(select(fc, choices, selected, multiple=True), "multi")
        return choice_group(fc, choices, selected, "checkbox", bool(option(ui, "inline")))

    # -- choices of alternatives and tuples ------------------------------------------------------------------
    def _choice(self, fc, schema, ui, widget, path, value, pointer, seen) -> Markup:
        """A oneOf/anyOf whose alternatives are not all objects (text or a number, a date or "unknown" …): a
        selector, then the chosen alternative's field (the others hidden and disabled, so not sent)."""
        key, alternatives = self.s.alternatives(schema)
        if len(alternatives) == 1:
            return self.field(alternatives[0], ui, path, value, f"{pointer}/{key}/0", seen,
                              required=fc.required, label=fc.label)
        resolved = [self.s.resolve(a, f"{pointer}/{key}/{i}", seen)[0] or {} for i, a in enumerate(alternatives)]
        chosen = next((i for i, a in enumerate(alternatives) if value is not MISSING and self.s.is_valid(a, value)), 0)
        titles = [text(localised(r, "title", self.lang)) or self.words["option"].format(n=i + 1)
                  for i, r in enumerate(resolved)]
        name = self.name([*path, OPTION])
        selector_fc = Field(name=name, id=self.new_id(name), label=fc.label, words=self.words, required=True,
                            soft=self._soft, disabled=fc.disabled, readonly=fc.readonly)
        choices = [(str(i), title, False) for i, title in enumerate(titles)]
        if widget == "radio":
            selector = choice_group(selector_fc, choices, {str(chosen)}, "radio", bool(option(ui, "inline")))
        else:
            selector = selector_fc.wrap(select(selector_fc, choices, {str(chosen)}), "option-select")
        sets = []
        for i, alternative in enumerate(alternatives):
            inner = self.field(alternative, {k: v for k, v in ui.items() if k != "ui:widget"}, path,
                               value if i == chosen else MISSING, f"{pointer}/{key}/{i}", seen,
                               required=fc.required, label=escape(titles[i]))
            sets.append(tag("fieldset", {"class": "option", "data-option": str(i),
                                         "data-show-if": json_attr({"field": name, "in": [str(i)]}),
                                         "hidden": i != chosen, "disabled": i != chosen}, inner))
        return tag("div", fc.outer("choice"), selector, *sets, *fc.after())

    def _tuple(self, fc, schema, ui, widget, path, value, pointer, seen) -> Markup:
        """An array with a schema per position (``prefixItems``, Draft 7's ``items`` as a list): one field
        each, filled in order; the ones up to ``minItems`` required."""
        key = "prefixItems" if "prefixItems" in schema else "items"
        positions = self.s.positions(schema)
        values = value if isinstance(value, list) else []
        low = schema.get("minItems") if isinstance(schema.get("minItems"), int) else 0
        item_uis = ui.get("items") if isinstance(ui.get("items"), list) else []
        body = []
        for i, position in enumerate(positions):
            sub, _, _ = self.s.resolve(position, f"{pointer}/{key}/{i}", seen)
            item_ui = item_uis[i] if i < len(item_uis) and isinstance(item_uis[i], dict) else {}
            label = None if sub and (localised(sub, "title", self.lang) or item_ui.get("ui:title")) else \
                escape(self.words["position"].format(n=i + 1))
            body.append(self.field(position, item_ui, [*path, i], values[i] if i < len(values) else MISSING,
                                   f"{pointer}/{key}/{i}", seen, required=fc.required and i < low,
                                   label=label))
        return fc.group(body, "tuple")
