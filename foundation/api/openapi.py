"""OpenAPI 3 document (apispec + its marshmallow plugin) from route metadata set with :func:`doc`."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app

from foundation.version import __version__

_DOCS: dict[str, dict[str, Any]] = {}


def doc(summary: str, *, tags: list[str], query: Any = None, body: Any = None, response: Any = None,
        many: bool = False, status: int = 200) -> Callable:
    """Attach OpenAPI metadata to a view function."""

    def deco(fn: Callable) -> Callable:
        _DOCS[fn.__name__ + "@" + fn.__module__] = dict(
            summary=summary, tags=tags, query=query, body=body, response=response, many=many, status=status
        )
        fn._jizuo_doc_key = fn.__name__ + "@" + fn.__module__  # type: ignore[attr-defined]
        return fn

    return deco


def _schema_name(schema: Any) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__
    return name + "Patch" if getattr(schema, "partial", False) else name


def _param_type(rule, name: str) -> str:
    from werkzeug.routing import IntegerConverter

    return "integer" if isinstance(rule._converters.get(name), IntegerConverter) else "string"


def _flask_path(rule: str) -> str:
    import re

    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def build_spec(blueprint: str) -> dict:
    spec = APISpec(
        title="Jizuo open API", version=__version__, openapi_version="3.0.3",
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
        info={"description": "District education foundation: org tree, people, audit. Errors are "
                             '`{"error": {"code", "message", "fields"}}`, localised by Accept-Language.'},
    )
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "jizuo_session"})
    plugins = current_app.extensions.get("jizuo.plugin_blueprints", {})
    own_root: set[str] = set()
    for rule in current_app.url_map.iter_rules():
        owner = plugins.get(rule.endpoint.split(".")[0])
        if not rule.endpoint.startswith(blueprint + ".") and not (owner and "/api/" in rule.rule):
            continue
        view = current_app.view_functions[rule.endpoint]
        meta = _DOCS.get(getattr(view, "_jizuo_doc_key", ""))
        if meta is None and owner:  # a plugin's API route: documented from its docstring, tagged with the plugin
            summary = ((view.__doc__ or "").strip().splitlines() or [rule.endpoint])[0]
            meta = dict(summary=summary, tags=[owner], query=None, body=None, response=None, many=False,
                        status=200)
        if meta is None:
            continue
        ops: dict[str, Any] = {}
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {"summary": meta["summary"], "tags": meta["tags"], "security": [{"session": []}]}
            params = [{"in": "path", "name": a, "required": True, "schema": {"type": _param_type(rule, a)}}
                      for a in sorted(rule.arguments)]
            if meta["query"] is not None:
                params.append({"in": "query", "schema": meta["query"]})
            if params:
                op["parameters"] = params
            if meta["body"] is not None:
                op["requestBody"] = {"content": {"application/json": {"schema": meta["body"]}}}
            resp = {"description": "OK"}
            if meta["response"] is not None:
                schema: Any = meta["response"]
                if meta["many"]:
                    schema = {"type": "object", "properties": {
                        "items": {"type": "array", "items": schema}, "total": {"type": "integer"},
                        "page": {"type": "integer"}, "per_page": {"type": "integer"}}}
                resp["content"] = {"application/json": {"schema": schema}}
            op["responses"] = {str(meta["status"]): resp, "401": {"description": "not logged in"},
                               "404": {"description": "not found (or in another school)"},
                               "422": {"description": "invalid field(s)"}}
            ops[method.lower()] = op
        if owner:  # outside /api/v1: the path item names its own server root (below)
            spec.path(path=_flask_path(rule.rule), operations=ops)
            own_root.add(_flask_path(rule.rule))
        else:
            spec.path(path=_flask_path(rule.rule.removeprefix("/api/v1")), operations=ops)
    out = spec.to_dict()
    out["servers"] = [{"url": "/api/v1"}]
    for path in own_root:
        out["paths"][path]["servers"] = [{"url": "/"}]
    return out
