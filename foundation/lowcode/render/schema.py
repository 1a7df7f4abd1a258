"""What the renderer and the form parser share about a JSON Schema (in the draft the form declares, Draft 7
without ``$schema``): ``$ref`` and ``allOf`` resolution, the kind of widget a subschema needs, enum choices
and conditions (``if``/``then``/``else``, ``dependencies``)."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from foundation.lowcode.validation import validator_class

BINDINGS = ("student", "class", "staff")
OPTION = "~option"  # the name segment of a oneOf/anyOf selector: property names may not contain "~"
ENTRIES = "~entries"  # the name segment of the name + value rows of additionalProperties/patternProperties
CONDS = "x-lowcode-conditions"  # where allOf merging collects its parts' if/then/else
_BAD_NAME = re.compile(r'[.\s"\\~]')
_SCALARS = ("string", "number", "integer", "boolean", "object", "array", "null")


def valid_name(name: str) -> bool:
    """Whether a property name can be a segment of a dotted field name (``f.address.city``)."""
    return bool(name) and not _BAD_NAME.search(name)


def localised(node: dict, key: str, lang: str) -> Any:
    """``title``/``description`` in ``lang`` from ``x-jizuo-<key>`` (one text per language, as the form editor
    writes them), else the plain keyword (None when absent)."""
    both = node.get(f"x-jizuo-{key}")
    if isinstance(both, dict) and isinstance(both.get(lang), str) and both[lang].strip():
        return both[lang]
    return node.get(key)


def required_of(schema: dict) -> set[str]:
    required = schema.get("required")
    return {r for r in required if isinstance(r, str)} if isinstance(required, list) else set()


def pointer_escape(segment: Any) -> str:
    return str(segment).replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class Problem:
    pointer: str
    code: str
    detail: str = ""


@dataclass
class Cond:
    """A condition on an object's values: ``when`` for lowcode.js (None: too complex for the browser),
    ``holds`` for the server, ``anchor`` the property whose field controls it."""

    when: dict | None
    holds: Callable[[dict], bool]
    anchor: str | None = None

    def negate(self) -> Cond:
        return Cond(None if self.when is None else {"not": self.when}, lambda obj: not self.holds(obj), self.anchor)


@dataclass
class Branch:
    """A partial object schema whose properties apply while ``cond`` holds."""

    schema: dict
    pointer: str
    cond: Cond


class Schemas:
    """The root schema: resolves ``$ref`` (inside the document only) and merges ``allOf``."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self._validator = validator_class(root)(root if isinstance(root, dict | bool) else {})

    def is_valid(self, schema: Any, instance: Any) -> bool:
        try:
            return self._validator.evolve(schema=schema).is_valid(instance)
        except Exception:  # an unresolvable $ref or a broken subschema: treat as "does not hold"
            return False

    # -- $ref and allOf ------------------------------------------------------------------------------
    def resolve(self, schema: Any, pointer: str, seen: frozenset = frozenset()
                ) -> tuple[dict | None, frozenset, list[Problem]]:
        """(the subschema with $ref inlined and allOf merged, refs on the way, problems); None for ``false``."""
        if schema is True:
            return {}, seen, []
        if schema is False:
            return None, seen, []
        if not isinstance(schema, dict):
            return None, seen, [Problem(pointer, "invalid_schema")]
        while "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#"):
                return None, seen, [Problem(pointer, "external_ref", str(ref))]
            if ref in seen:
                return None, seen, [Problem(pointer, "recursive_ref", ref)]
            target = self._lookup(ref)
            if target is True:
                target = {}
            if not isinstance(target, dict):
                return None, seen, [Problem(pointer, "bad_ref", ref)] if target is not False else []
            seen = seen | {ref}
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        if "$dynamicRef" in schema or "$recursiveRef" in schema:
            return None, seen, [Problem(pointer, "dynamic_ref")]
        problems: list[Problem] = []
        if isinstance(schema.get("allOf"), list):
            schema = self._merge_all_of(schema, pointer, seen, problems)
        return schema, seen, problems

    def _lookup(self, ref: str) -> Any:
        node: Any = self.root
        fragment = unquote(ref[1:])
        if not fragment:
            return node
        if not fragment.startswith("/"):
            return None  # $anchor names are not supported
        for raw in fragment[1:].split("/"):
            key = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                return None
        return node

    def _merge_all_of(self, schema: dict, pointer: str, seen: frozenset, problems: list[Problem]) -> dict:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        conds = list(merged.get(CONDS, []))
        for i, part in enumerate(schema["allOf"]):
            where = f"{pointer}/allOf/{i}"
            sub, _, found = self.resolve(part, where, seen)
            problems.extend(found)
            if sub is None:
                continue
            if "if" in sub:
                conds.append((sub["if"], sub.get("then"), sub.get("else"), where))
            conds.extend(sub.get(CONDS, []))
            for key, value in sub.items():
                if key in ("if", "then", "else", CONDS):
                    continue
                if key == "properties" and isinstance(value, dict):
                    props = dict(merged.get("properties", {}))
                    for name, prop in value.items():
                        props[name] = {"allOf": [props[name], prop]} if name in props else prop
                    merged["properties"] = props
                elif key == "required" and isinstance(value, list):
                    merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
                elif key in ("dependencies", "dependentSchemas", "dependentRequired") and isinstance(value, dict):
                    merged[key] = {**merged.get(key, {}), **value}
                elif key in ("oneOf", "anyOf") and ("oneOf" in merged or "anyOf" in merged):
                    problems.append(Problem(where, "all_of"))
                elif key not in merged:
                    merged[key] = value
        if conds:
            merged[CONDS] = conds
        return merged

    # -- kinds and choices ---------------------------------------------------------------------------
    def kind_of(self, schema: dict, pointer: str, seen: frozenset) -> tuple[str, str]:
        """("binding" | "boolean" | "const" | "enum" | "object" | "array" | "multi" | "tuple" | "choice" |
        "string" | "number" | "integer" | "unsupported", detail) — "multi" is an array of unique choices
        (checkboxes), "tuple" an array with a schema per position, "choice" a oneOf/anyOf of alternatives
        that are not all objects (one is picked, then filled)."""
        if "x-jizuo-binding" in schema:
            return "binding", str(schema["x-jizuo-binding"])
        if "const" in schema or (isinstance(schema.get("enum"), list) and len(schema["enum"]) == 1):
            return "const", ""  # a fixed value: shown (when titled) and sent hidden
        declared = schema.get("type")
        if isinstance(declared, list):
            others = [t for t in declared if t != "null"]
            if len(others) > 1:
                return "unsupported", "type_union:" + "/".join(map(str, others))
            declared = others[0] if others else "null"
        if declared == "boolean":
            return "boolean", ""
        if "enum" in schema:
            return "enum", ""
        options = schema.get("oneOf", schema.get("anyOf"))
        if isinstance(options, list) and options:
            resolved = [self.resolve(o, pointer, seen)[0] or {} for o in options]
            if all("const" in o for o in resolved):
                return "enum", ""
            if all(is_objectish(o) for o in resolved) and declared in (None, "object"):
                return "object", ""
            return "choice", ""
        if declared is None:
            if "prefixItems" in schema or "items" in schema:
                declared = "array"
            elif is_objectish(schema):
                declared = "object"
            else:
                declared = "string"
        if declared == "null":
            return "unsupported", "null_type:"
        if declared not in _SCALARS:
            return "unsupported", f"unknown_type:{declared}"
        if declared != "array":
            return declared, ""
        items = schema.get("items")
        if "prefixItems" in schema or isinstance(items, list):
            positions = self.positions(schema)
            low = schema.get("minItems") if isinstance(schema.get("minItems"), int) else 0
            return ("tuple", "") if positions and low <= len(positions) else ("unsupported", "prefix_items:")
        if items is None or items is True:
            return "unsupported", "no_items:"
        item, _, _ = self.resolve(items, pointer + "/items", seen)
        if item is not None and schema.get("uniqueItems") is True:
            item_kind, _ = self.kind_of(item, pointer + "/items", seen)
            if item_kind in ("enum", "binding"):
                return "multi", ""
        return "array", ""

    @staticmethod
    def positions(schema: dict) -> list:
        """A tuple array's schema per position (``prefixItems``, or Draft 7's ``items`` as a list)."""
        listed = schema.get("prefixItems", schema.get("items"))
        return listed if isinstance(listed, list) else []

    @staticmethod
    def entries(schema: dict) -> tuple[dict | None, str | None]:
        """Free-named properties (``additionalProperties``/``patternProperties`` with one value schema) as
        an array of ``{key, value}`` rows to fill in, or (None, the problem code) when there are several rules
        for values; (None, None) when the object takes no such properties."""
        patterns = schema.get("patternProperties") if isinstance(schema.get("patternProperties"), dict) else {}
        extra = schema.get("additionalProperties")
        extra = extra if isinstance(extra, dict) and extra else None
        if len(patterns) > 1 or (patterns and extra is not None):
            return None, "pattern_properties"
        if not patterns and extra is None:
            return None, None
        key: dict = {"type": "string", "minLength": 1}
        if isinstance(schema.get("propertyNames"), dict):
            key = {**schema["propertyNames"], **key}
        if patterns:
            pattern, value = next(iter(patterns.items()))
            key["pattern"] = pattern
        else:
            value = extra
        return {"type": "array", "items": {"type": "object", "required": ["key", "value"],
                                           "properties": {"key": key, "value": value}}}, None

    def alternatives(self, schema: dict) -> tuple[str, list]:
        """A choice field's keyword and alternatives, leaving out ``{"type": "null"}`` (a blank field)."""
        key = "oneOf" if "oneOf" in schema else "anyOf"
        return key, [o for o in schema[key] if not (isinstance(o, dict) and o.get("type") == "null")]

    def choices(self, schema: dict, seen: frozenset, lang: str = "zh") -> list[tuple[Any, str | None]]:
        """(value, title or None) for ``const``, ``enum`` or a ``oneOf``/``anyOf`` of ``{const, title}``; an
        option's ``x-jizuo-title`` gives its title in ``lang``."""
        if "const" in schema:
            return [(schema["const"], None)]
        if isinstance(schema.get("enum"), list):  # titles from react-jsonschema-form's enumNames
            names = schema.get("enumNames") if isinstance(schema.get("enumNames"), list) else []
            return [(v, str(names[i]) if i < len(names) else None) for i, v in enumerate(schema["enum"])]
        out = []
        for option in schema.get("oneOf", schema.get("anyOf")) or []:
            resolved, _, _ = self.resolve(option, "", seen)
            if resolved and "const" in resolved:
                title = localised(resolved, "title", lang)
                out.append((resolved["const"], None if title is None else str(title)))
        return out

    # -- conditions ----------------------------------------------------------------------------------
    def conditionals(self, schema: dict, pointer: str, seen: frozenset, name: Callable[[str], str]
                     ) -> tuple[list[Branch], dict[str, list[Cond]], list[Problem]]:
        """The object's conditional branches, the properties required only under a condition, problems."""
        branches: list[Branch] = []
        problems: list[Problem] = []
        sources = [(schema["if"], schema.get("then"), schema.get("else"), pointer)] if "if" in schema else []
        for if_schema, then_schema, else_schema, where in [*sources, *schema.get(CONDS, [])]:
            cond = self.condition(if_schema, where + "/if", seen, name)
            if cond.when is None:
                problems.append(Problem(where + "/if", "condition"))
            for sub, key, c in ((then_schema, "then", cond), (else_schema, "else", cond.negate())):
                if sub is None:
                    continue
                resolved, _, found = self.resolve(sub, f"{where}/{key}", seen)
                problems.extend(found)
                if resolved:
                    branches.append(Branch(resolved, f"{where}/{key}", c))
        required_if: dict[str, list[Cond]] = {}
        for key in ("dependencies", "dependentSchemas", "dependentRequired"):
            deps = schema.get(key)
            for prop, dep in (deps.items() if isinstance(deps, dict) else []):
                present = Cond({"field": name(prop), "present": True}, lambda obj, p=prop: p in obj, prop)
                where = f"{pointer}/{key}/{pointer_escape(prop)}"
                if isinstance(dep, list):
                    for target in dep:
                        required_if.setdefault(str(target), []).append(present)
                    continue
                resolved, _, found = self.resolve(dep, where, seen)
                problems.extend(found)
                if resolved:
                    self._dependency(prop, resolved, where, present, seen, name, branches, problems)
        for branch in branches:
            own = branch.schema.get("properties") or {}
            for target in branch.schema.get("required") or []:
                if target not in own:
                    required_if.setdefault(target, []).append(branch.cond)
        return branches, required_if, problems

    def _dependency(self, prop: str, dep: dict, where: str, present: Cond, seen: frozenset,
                    name: Callable[[str], str], branches: list[Branch], problems: list[Problem]) -> None:
        options = dep.get("oneOf")
        rest = {k: v for k, v in dep.items() if k != "oneOf"}
        if rest.get("properties") or rest.get("required") or rest.get(CONDS) or "if" in rest:
            branches.append(Branch(rest, where, present))
        for i, option in enumerate(options if isinstance(options, list) else []):
            resolved, _, found = self.resolve(option, f"{where}/oneOf/{i}", seen)
            problems.extend(found)
            props = (resolved or {}).get("properties") or {}
            if prop not in props:  # react-jsonschema-form's "dynamic" dependencies name the value they apply to
                problems.append(Problem(f"{where}/oneOf/{i}", "dependency", prop))
                continue
            cond = self.condition({"properties": {prop: props[prop]}, "required": [prop]}, where, seen, name)
            body = {**resolved, "properties": {k: v for k, v in props.items() if k != prop}}
            branches.append(Branch(body, f"{where}/oneOf/{i}", cond))

    def condition(self, if_schema: Any, pointer: str, seen: frozenset, name: Callable[[str], str]) -> Cond:
        """An ``if`` subschema as a Cond; ``when`` only for properties tested with const/enum/required."""
        holds = lambda obj: self.is_valid(if_schema, obj)  # noqa: E731
        resolved, _, _ = self.resolve(if_schema, pointer, seen)
        if not isinstance(resolved, dict):
            return Cond(None, holds)
        props = resolved.get("properties") or {}
        listed = resolved.get("required")
        required = [r for r in listed if isinstance(r, str)] if isinstance(listed, list) else []
        anchor = next(iter(props), required[0] if required else None)
        allowed = {"properties", "required", "type", "title", "description", "$comment"}
        if set(resolved) - allowed or resolved.get("type", "object") != "object" or not isinstance(props, dict):
            return Cond(None, holds, anchor)
        parts: list[dict] = []
        for prop, sub in props.items():
            values = _tested_values(self.resolve(sub, pointer, seen)[0])
            if values is False:
                return Cond(None, holds, anchor)
            field = name(prop)
            if values is None:
                if prop in required:
                    parts.append({"field": field, "present": True})
                continue
            test: dict = {"field": field, "in": values}
            parts.append(test if prop in required else {"any": [{"field": field, "present": False}, test]})
        parts += [{"field": name(r), "present": True} for r in required if r not in props]
        return Cond(parts[0] if len(parts) == 1 else {"all": parts}, holds, anchor)


def _tested_values(sub: dict | None) -> list | None | bool:
    """The values a property test in ``if`` accepts: a list, None for "anything", False if not expressible."""
    if sub is None:
        return False
    keys = set(sub) - {"title", "description", "type", "$comment"}
    if not keys:
        return None if "type" not in sub else False
    if keys == {"const"}:
        return [sub["const"]]
    if keys == {"enum"} and isinstance(sub["enum"], list):
        return list(sub["enum"])
    return False


def is_objectish(schema: Any) -> bool:
    return isinstance(schema, dict) and (
        schema.get("type") == "object" or any(k in schema for k in ("properties", "required", "dependencies",
                                                                     "dependentSchemas", "if", CONDS)))


def ordered(names: list[str], order: Any) -> list[str]:
    """``names`` in react-jsonschema-form ``ui:order`` order ("*" stands for the others; without "*" the
    unlisted ones follow the listed ones, never dropped)."""
    if not isinstance(order, list):
        return names
    order = list(dict.fromkeys(order))
    listed = [n for n in order if n != "*" and n in names]
    rest = [n for n in names if n not in listed]
    if "*" not in order:
        return listed + rest
    star = order.index("*")
    before = [n for n in order[:star] if n in names]
    after = [n for n in order[star + 1:] if n in names]
    return before + rest + after
