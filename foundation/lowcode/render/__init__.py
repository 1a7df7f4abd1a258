"""Low-code forms: a JSON Schema (draft 2020-12) plus a react-jsonschema-form style UI schema, rendered on
the server as accessible HTML, and the submitted form parsed back into a typed JSON document.

    result = render_form(schema, ui_schema, data, errors={"address.city": "必填"}, pickers={"student": [...]})
    result.html          # Markup: the fields only — the caller adds <form>, the CSRF field and a submit button
    result.unsupported   # ["/properties/x/patternProperties: patternProperties", ...], each also a visible notice
    document = parse_form(schema, request.form)   # then validate it with jsonschema

Field names are ``f.<path>`` (``f.address.city``, ``f.items.0.name``); ids equal names (a second field
with the same name, e.g. in ``then`` and ``else``, gets ``~2``). Load ``admin/lowcode/static/lowcode.js`` (and
``lowcode.css``) on the page for adding/removing array rows and live conditional fields; without
JavaScript the form still works with the rows and branches the server rendered.

Supported: string (text, textarea with ui:options.rows, password, email/date/date-time/time/uri formats and
widgets, minLength/maxLength/pattern), number/integer (min/max/step from minimum, maximum, exclusive*,
multipleOf; updown, range), boolean (checkbox, radio, select), enums (``enum``, ``oneOf``/``anyOf`` of
``{const, title}``, ``ui:enumNames``, ``ui:enumDisabled``; select or radio), ``const`` (hidden), nested
objects (fieldset + legend, ``ui:order`` with "*"), arrays of anything supported (rows with Add/Remove and
a <template> row; ``minItems``/``maxItems``; ``ui:options`` addable/removable), unique arrays of enums or
bindings (checkboxes, or ``ui:widget: select`` for <select multiple>), ``oneOf``/``anyOf`` of object
subschemas (option selector + one fieldset per option), ``if``/``then``/``else``, ``dependencies``,
``dependentRequired``, ``dependentSchemas`` (incl. react-jsonschema-form's oneOf "dynamic" dependencies),
``allOf`` of object parts, ``$ref`` inside the document, ``x-jizuo-binding`` (student/class/staff
pickers), ``ui:title``, ``ui:description``, ``ui:help``, ``ui:placeholder``, ``ui:disabled``,
``ui:readonly`` (and ``readOnly``), ``ui:autofocus``, ``ui:classNames``, ``ui:options.label: false``,
``ui:options.inline``.
Reported as unsupported (``.unsupported`` + a notice): ``$ref`` to other documents, recursive ``$ref``,
``$dynamicRef``, ``patternProperties``, ``additionalProperties``/``unevaluatedProperties`` schemas,
``not``, tuple arrays (``prefixItems``), ``contains``, arrays without ``items``, several types in one
field, type null, oneOf/anyOf of non-objects, unknown or mismatched ``ui:widget`` (the default widget is
used), ``ui:field``/templates, ``if`` conditions the browser cannot evaluate, file content, unknown
bindings and property names containing ".", whitespace, quotes, a backslash or "~".
"""
from __future__ import annotations

from foundation.lowcode.render.parse import parse_form
from foundation.lowcode.render.renderer import RenderResult, render_form

__all__ = ["RenderResult", "parse_form", "render_form"]
