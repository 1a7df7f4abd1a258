"""One field's chrome (label, description, help, error, required marker, notices) and its HTML controls."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fractions import Fraction
from math import ceil, floor
from typing import Any

from markupsafe import Markup

from foundation.lowcode.render.html import join, tag
from foundation.lowcode.render.values import MISSING, number_text, option_value, to_local_input

Choice = tuple[str, str, bool]  # (form value, label, disabled)

STRING_TYPES = {"text": "text", "password": "password", "email": "email", "uri": "url", "url": "url",
                "date": "date", "datetime": "datetime-local", "time": "time", "color": "color"}
# format: time is left a text input: RFC 3339 times carry an offset that <input type=time> would drop.
FORMAT_TYPES = {"email": "email", "date": "date", "date-time": "datetime-local", "uri": "url", "iri": "url"}
WIDGETS = {
    "string": {"text", "textarea", "password", "email", "uri", "url", "date", "datetime", "time", "color", "hidden"},
    "number": {"updown", "range", "text", "hidden"},
    "integer": {"updown", "range", "text", "hidden"},
    "boolean": {"checkbox", "radio", "select", "hidden"},
    "enum": {"select", "radio", "hidden"},
    "const": {"hidden"},
    "binding": {"select", "hidden"},
    "multi": {"checkboxes", "select"},
    "object": {"select", "radio"},  # the selector of a oneOf/anyOf object
    "choice": {"select", "radio"},  # the selector of a oneOf/anyOf of other alternatives
    "array": set(),
    "tuple": set(),
}
KNOWN_WIDGETS = set().union(*WIDGETS.values())  # the publish check takes its list from here


def option(ui: dict, key: str) -> Any:
    """A react-jsonschema-form option: ``ui:options[key]`` or ``ui:<key>``."""
    options = ui.get("ui:options")
    if isinstance(options, dict) and key in options:
        return options[key]
    return ui.get(f"ui:{key}")


def text(value: Any) -> str | None:
    """A title, description or help text: None when absent or empty."""
    return None if value is None or value == "" else str(value)


@dataclass
class Field:
    """What every control of one field needs to know."""

    name: str
    id: str
    label: Markup
    words: dict[str, str]
    description: str | None = None
    help: str | None = None
    error: str | None = None
    required: bool = False  # currently required: marker shown (and the attribute unless ``soft``)
    required_if: dict | None = None  # lowcode.js toggles the requirement with this condition
    soft: bool = False  # a blank padding row: no `required` attribute, so an untouched row can be submitted
    disabled: bool = False
    readonly: bool = False
    autofocus: bool = False
    placeholder: str | None = None
    classes: str = ""
    hide_label: bool = False
    notices: list[Markup] = field(default_factory=list)

    def part_id(self, part: str) -> str:
        return f"{self.id}.~{part}"

    @property
    def describedby(self) -> str | None:
        parts = [self.part_id(p) for p, text in (("desc", self.description), ("help", self.help),
                                                   ("error", self.error)) if text]
        return " ".join(parts) or None

    @property
    def locked(self) -> bool:
        """Controls without a native readonly state (select, radio, checkbox) are disabled instead."""
        return self.disabled or self.readonly

    def attrs(self, *, group: bool = False, locked: bool | None = None) -> dict[str, Any]:
        """Attributes of the control itself (``group``: one input of a radio/checkbox group)."""
        return {
            "id": None if group else self.id,
            "name": self.name,
            "required": self.required and not self.soft,
            "disabled": self.disabled if locked is None else locked,
            "autofocus": self.autofocus and not group,
            "aria-describedby": None if group else self.describedby,
            "aria-invalid": "true" if self.error else None,
        }

    def marker(self, group: bool = False) -> Markup:
        if not (self.required or self.required_if):
            return Markup("")
        spoken = tag("span", {"class": "visually-hidden"}, self.words["required"]) if group else ""
        return Markup(" ") + tag("span", {"class": "required", "hidden": not self.required},
                                 tag("span", {"aria-hidden": "true"}, "*"), spoken)

    def before(self) -> Markup:
        if not self.description:
            return Markup("")
        return tag("p", {"class": "description", "id": self.part_id("desc")}, self.description)

    def after(self) -> list[Markup]:
        out = []
        if self.error:
            out.append(tag("p", {"class": "field-error", "id": self.part_id("error")}, self.error))
        if self.help:
            out.append(tag("p", {"class": "help", "id": self.part_id("help")}, self.help))
        return out + self.notices

    def outer(self, kind: str) -> dict[str, Any]:
        return {"class": " ".join(filter(None, ["field", kind, self.classes])), "data-field": self.name,
                "data-required-if": json_attr(self.required_if)}

    def wrap(self, control: Markup, kind: str, *, label_after: bool = False) -> Markup:
        label = tag("label", {"for": self.id, "class": "visually-hidden" if self.hide_label else None},
                    self.label, self.marker())
        parts = [control, label] if label_after else [label, self.before(), control]
        if label_after:
            parts.append(self.before())
        return tag("div", self.outer(kind), *parts, *self.after())

    def group(self, body: Any, kind: str, **attrs: Any) -> Markup:
        legend = tag("legend", {"class": "visually-hidden" if self.hide_label else None},
                     self.label, self.marker(group=True))
        return tag("fieldset", {**self.outer(kind), "id": self.id, "aria-describedby": self.describedby, **attrs},
                   legend, self.before(), body, *self.after())


def json_attr(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def carry(fc: Field, values: list[str]) -> list[Markup]:
    """Hidden copies of a disabled control's values (disabled controls are not submitted)."""
    return [tag("input", {"type": "hidden", "name": fc.name, "value": v}) for v in values]


# -- text-like inputs -----------------------------------------------------------------------------------
def text_input(fc: Field, schema: dict, widget: str | None, value: Any, utc_offset: str) -> Markup:
    input_type = STRING_TYPES.get(widget or "") or FORMAT_TYPES.get(schema.get("format"), "text")
    text = "" if value is MISSING or value is None else str(value)
    if input_type == "datetime-local":
        text = to_local_input(value, utc_offset)
    attrs = {"type": input_type, **fc.attrs(), "readonly": fc.readonly, "value": text or None,
             "placeholder": fc.placeholder, **_length_attrs(schema)}
    if input_type in ("date", "datetime-local", "time", "color"):
        attrs.pop("pattern", None)
    if input_type in ("datetime-local", "time") and re.search(r"\d\d:\d\d:\d\d", text):
        # the default step (60 s) would reject a value with seconds, step 1 one with fractions of a second
        attrs["step"] = "any" if re.search(r"\d\d:\d\d:\d\d\.", text) else "1"
    return tag("input", attrs) + _carry_disabled(fc, text)


def textarea(fc: Field, schema: dict, value: Any, rows: Any) -> Markup:
    text = "" if value is MISSING or value is None else str(value)
    attrs = {**fc.attrs(), "readonly": fc.readonly, "placeholder": fc.placeholder,
             "rows": rows if isinstance(rows, int) and not isinstance(rows, bool) and rows > 0 else None,
             **_length_attrs(schema)}
    attrs.pop("pattern", None)  # textarea has no pattern attribute
    return tag("textarea", attrs, text) + _carry_disabled(fc, text)


def _length_attrs(schema: dict) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for key, attr in (("minLength", "minlength"), ("maxLength", "maxlength")):
        if isinstance(schema.get(key), int) and not isinstance(schema[key], bool):
            attrs[attr] = schema[key]
    if isinstance(schema.get("pattern"), str):
        attrs["pattern"] = html_pattern(schema["pattern"])
    return attrs


def html_pattern(pattern: str) -> str:
    """JSON Schema patterns match anywhere; HTML ones must match the whole value."""
    if pattern.startswith("^") and re.search(r"(?<!\\)\$$", pattern) and "|" not in pattern:
        return pattern
    return r"[\s\S]*(?:" + pattern + r")[\s\S]*"


def number_input(fc: Field, schema: dict, integer: bool, widget: str | None, value: Any) -> Markup:
    attrs = {"type": "range" if widget == "range" else "number", **fc.attrs(), "readonly": fc.readonly,
             "value": number_text(value) or None, "placeholder": fc.placeholder, **number_bounds(schema, integer)}
    return tag("input", attrs) + _carry_disabled(fc, number_text(value))


def number_bounds(schema: dict, integer: bool) -> dict[str, str]:
    """min/max/step for minimum, maximum, exclusiveMinimum/Maximum and multipleOf."""
    def num(key: str) -> Fraction | None:
        value = schema.get(key)
        return Fraction(str(value)) if isinstance(value, int | float) and not isinstance(value, bool) else None

    lows, highs = [num("minimum")], [num("maximum")]
    xlow, xhigh = num("exclusiveMinimum"), num("exclusiveMaximum")
    if schema.get("exclusiveMinimum") is True:  # draft-04 style
        xlow, lows = lows[0], []
    if schema.get("exclusiveMaximum") is True:
        xhigh, highs = highs[0], []
    if xlow is not None:
        lows.append(Fraction(floor(xlow) + 1) if integer else xlow)
    if xhigh is not None:
        highs.append(Fraction(ceil(xhigh) - 1) if integer else xhigh)
    low = max((x for x in lows if x is not None), default=None)
    high = min((x for x in highs if x is not None), default=None)
    step = num("multipleOf")
    if step is not None and (step <= 0 or (integer and step.denominator != 1)):
        step = None
    if integer:
        step = step or Fraction(1)
        low = None if low is None else Fraction(ceil(low))
        high = None if high is None else Fraction(floor(high))
    if step is not None and low is not None:
        low = ceil(low / step) * step  # the browser counts steps from min: keep min a multiple of the step
    attrs = {"min": _fmt(low), "max": _fmt(high), "step": _fmt(step) if step is not None else "any"}
    return {k: v for k, v in attrs.items() if v is not None}


def _fmt(value: Fraction | None) -> str | None:
    if value is None:
        return None
    return str(value.numerator) if value.denominator == 1 else repr(float(value))


# -- choices --------------------------------------------------------------------------------------------
def select(fc: Field, choices: list[Choice], selected: set[str], *, multiple: bool = False) -> Markup:
    options = [] if multiple else [tag("option", {"value": ""}, fc.placeholder or fc.words["choose"])]
    options += [tag("option", {"value": v, "selected": v in selected, "disabled": off}, label)
                for v, label, off in choices]
    control = tag("select", {**fc.attrs(locked=fc.locked), "multiple": multiple}, *options)
    return control + join(_carry_locked(fc, selected))


def choice_group(fc: Field, choices: list[Choice], selected: set[str], input_type: str, inline: bool) -> Markup:
    """Radio buttons or checkboxes in a <fieldset> with a <legend>."""
    items = []
    for i, (value, label, off) in enumerate(choices):
        option_id = fc.part_id(str(i))
        attrs = {"type": input_type, **fc.attrs(group=True, locked=fc.locked or off), "id": option_id,
                 "value": value, "checked": value in selected}
        if input_type == "checkbox":
            attrs["required"] = False  # a required checkbox would have to be ticked
        items.append(tag("div", {"class": "choice"}, tag("input", attrs), " ", tag("label", {"for": option_id}, label)))
    kind = ("radios" if input_type == "radio" else "checkboxes") + (" inline" if inline else "")
    return fc.group([items, _carry_locked(fc, selected)], kind)


def checkbox(fc: Field, checked: bool, must: bool) -> Markup:
    """A boolean checkbox; the hidden "false" before it makes an unticked box submit false."""
    attrs = {"type": "checkbox", **fc.attrs(locked=fc.locked), "value": "true", "checked": checked,
             "required": must and not fc.soft, "data-boolean": True}
    if fc.locked:
        control = [tag("input", attrs), *carry(fc, ["true" if checked else "false"])]
    else:
        control = [tag("input", {"type": "hidden", "name": fc.name, "value": "false", "data-unchecked": True}),
                   tag("input", attrs)]
    return fc.wrap(Markup("").join(control), "checkbox", label_after=True)


def _carry_disabled(fc: Field, text: str) -> Markup:
    return join(carry(fc, [text])) if fc.disabled and text else Markup("")


def _carry_locked(fc: Field, selected: set[str]) -> list[Markup]:
    return carry(fc, sorted(selected)) if fc.locked else []


def selected_values(value: Any) -> set[str]:
    if value is MISSING or value is None:
        return set()
    if isinstance(value, list):
        return {option_value(v) for v in value}
    return {option_value(value)}
