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

Supported and refused: docs/lowcode.md lists both, with why. In short: strings, numbers, booleans, enums
(``enumNames``, ``oneOf`` of ``const`` + ``title``), fixed values (``const``, one-value enums), nested objects,
arrays (rows) and unique arrays of choices (checkboxes), tuple arrays, ``oneOf``/``anyOf`` as a choice,
``additionalProperties``/``patternProperties`` with one value schema as name + value rows, ``if``/``then``/
``else``, ``dependencies``, ``dependentRequired``, ``dependentSchemas``, ``allOf``, ``$ref`` inside the
document, bindings, and react-jsonschema-form's ``ui:`` options. Whatever cannot be drawn is a notice in the
page and an entry of ``.unsupported``/``.problems`` — which the publish check refuses.
"""
from __future__ import annotations

from foundation.lowcode.render.parse import parse_form
from foundation.lowcode.render.renderer import RenderResult, render_form

__all__ = ["RenderResult", "parse_form", "render_form"]
