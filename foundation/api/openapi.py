"""OpenAPI 3 document (apispec + its marshmallow plugin) from route metadata set with :func:`doc`.

Every operation names what it answers: its success (with the body's schema where one is declared), and the
errors that can really happen to it — 401 unless public, 403 unless ``forbidden=False`` (a capability, or a
token's scope, that does not grant it), 404 where a path, a filter or a body names something, 422 (a field, a query
parameter or the ``X-Jizuo-School`` header is bad), 400 and 413 on writes (malformed or too deep JSON, a
missing CSRF token; a body over the size limit), plus any in ``errors``. ``tests/contract`` holds the
document to it with schemathesis against the served app."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app
from marshmallow import class_registry
from werkzeug.routing import IntegerConverter

from foundation.version import __version__

_DOCS: dict[str, dict[str, Any]] = {}

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
WHY = {400: "malformed or too deeply nested JSON, or (session callers) a missing CSRF token",
       401: "not signed in", 403: "a capability you lack, or a token scope that does not grant it",
       404: "not found (or another school's)", 409: "conflicts with the current state",
       413: "the body is larger than the limit", 422: "invalid field(s), each named in `error.fields`",
       503: "busy: try again later"}
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "fields": {"type": "object"}}}}}
SECURITY = {
    "session": {"type": "apiKey", "in": "cookie", "name": "jizuo_session",
                "description": "the web session of a signed-in person (POST /login)"},
    "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
             "description": "with the session cookie, on every write: the `csrf_token` that GET /me returns"},
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "an OAuth 2 / OpenID Connect access token (POST /oauth/token; "
                              "discovery at /.well-known/openid-configuration), limited by its scopes"},
}


def doc(summary: str, *, tags: list[str], query: Any = None, body: Any = None, response: Any = None,
        many: bool = False, status: int = 200, errors: Iterable[int] = (), forbidden: bool = True,
        content: str | list[str] | None = "application/json", path: dict[str, dict] | None = None,
        public: bool = False) -> Callable:
    """Attach OpenAPI metadata to a view function. ``query``, ``body`` and ``response`` are marshmallow schemas
    (classes, instances or class names) or JSON Schema dicts; ``content`` the success's media type(s) (None:
    no body); ``path`` a JSON Schema per path parameter where the route's converter says less (an enum)."""

    def deco(fn: Callable) -> Callable:
        key = fn.__name__ + "@" + fn.__module__
        _DOCS[key] = dict(summary=summary, tags=tags, query=query, body=body, response=response, many=many,
                          status=status, errors=set(errors), forbidden=forbidden, content=content,
                          path=path or {}, public=public)
        fn._jizuo_doc_key = key  # type: ignore[attr-defined]
        return fn

    return deco


def _schema_name(schema: Any) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__
    return name + "Patch" if getattr(schema, "partial", False) else name


def _flask_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def _statuses(meta: dict, method: str, rule) -> set[int]:
    out = {422} | set(meta["errors"])
    if not meta["public"]:
        out |= {401} | ({403} if meta["forbidden"] else set())
    if rule.arguments or meta["query"] is not None or meta["body"] is not None:  # each names things
        out.add(404)
    if method in WRITES:
        out |= {400, 413}
    return out


def _success(meta: dict) -> dict:
    resp: dict[str, Any] = {"description": "OK"}
    types = [meta["content"]] if isinstance(meta["content"], str) else meta["content"] or []
    if meta["status"] == 204 or not types:
        return resp
    schema: Any = _schema(meta["response"]) if meta["response"] is not None else {"type": "object"}
    if meta["many"]:
        schema = {"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": schema}, "total": {"type": "integer"},
            "page": {"type": "integer"}, "per_page": {"type": "integer"}}}
    resp["content"] = {t: {"schema": schema} if t == "application/json" else {} for t in types}
    return resp


def _schema(ref: Any) -> Any:
    """A schema given by class name (foundation/api/bodies.py) as its class; others as they are."""
    return class_registry.get_class(ref) if isinstance(ref, str) else ref


def _operation(meta: dict, method: str, rule) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": meta["summary"], "tags": meta["tags"],
                          "operationId": rule.endpoint.replace(".", "_") + "_" + method.lower()}
    op["security"] = [] if meta["public"] else [
        {"session": [], "csrf": []} if method in WRITES else {"session": []}, {"bearer": []}]
    params: list[dict] = []
    for name in sorted(rule.arguments):
        kind = "integer" if isinstance(rule._converters.get(name), IntegerConverter) else "string"
        params.append({"in": "path", "name": name, "required": True, "schema": meta["path"].get(name, {"type": kind})})
    query = _schema(meta["query"])
    if isinstance(query, dict):  # a JSON Schema object: one parameter per property
        params += [{"in": "query", "name": k, "schema": v, "required": k in query.get("required", [])}
                   for k, v in query.get("properties", {}).items()]
    elif query is not None:  # a marshmallow schema: apispec makes the parameters
        params.append({"in": "query", "schema": query})
    if params:
        op["parameters"] = params
    if meta["body"] is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _schema(meta["body"])}}}
    op["responses"] = {str(meta["status"]): _success(meta)} | {
        str(code): {"description": WHY.get(code, "error"), "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for code in sorted(_statuses(meta, method, rule))}
    return op


def _plugin_meta(view, rule) -> dict:
    """A plugin's API route without ``api_doc``: documented from its docstring."""
    summary = ((view.__doc__ or "").strip().splitlines() or [rule.endpoint])[0]
    return dict(summary=summary, tags=[rule.endpoint.split(".")[0]], query=None, body=None, response=None,
                many=False, status=200, errors=set(), forbidden=True, content="application/json", path={},
                public=False)


def _list_codes(node: Any) -> None:
    """A field or parameter holding a code of a standard dictionary lists the dictionary's codes."""
    from foundation.codes import codes_of

    if isinstance(node, dict):
        if isinstance(node.get("x-code-dictionary"), str):
            node["enum"] = sorted(codes_of(node["x-code-dictionary"]))
        for value in node.values():
            _list_codes(value)
    elif isinstance(node, list):
        for value in node:
            _list_codes(value)


def build_spec(blueprint: str) -> dict:
    spec = APISpec(
        title="Jizuo open API", version=__version__, openapi_version="3.0.3",
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
        info={"description": "District education foundation: org tree, people, audit. Errors are "
                             '`{"error": {"code", "message", "fields"}}`, localised by Accept-Language. '
                             "Call it with a bearer token, or with the session cookie plus `X-CSRFToken` on "
                             "writes. Times are ISO 8601 in UTC with `Z`; dates are local calendar days."},
    )
    from foundation.api import answers, bodies  # noqa: F401  (the schemas routes name by class name)

    for name, scheme in SECURITY.items():
        spec.components.security_scheme(name, scheme)
    spec.components.schema("Error", ERROR)
    plugins = current_app.extensions.get("jizuo.plugin_blueprints", {})
    own_root: set[str] = set()
    for rule in current_app.url_map.iter_rules():
        owner = plugins.get(rule.endpoint.split(".")[0])
        if not rule.endpoint.startswith(blueprint + ".") and not (owner and "/api/" in rule.rule):
            continue
        view = current_app.view_functions[rule.endpoint]
        meta = _DOCS.get(getattr(view, "_jizuo_doc_key", ""))
        if meta is None and owner:
            meta = _plugin_meta(view, rule) | {"tags": [owner]}
        if meta is None:
            continue
        if owner:  # a plugin exists only in the schools that enabled it: 404 elsewhere
            meta = meta | {"errors": meta["errors"] | {404}}
        ops = {m.lower(): _operation(meta, m, rule) for m in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})}
        if owner:  # outside /api/v1: the path item names its own server root (below)
            spec.path(path=_flask_path(rule.rule), operations=ops)
            own_root.add(_flask_path(rule.rule))
        else:
            spec.path(path=_flask_path(rule.rule.removeprefix("/api/v1")), operations=ops)
    out = spec.to_dict()
    _list_codes(out)
    out["servers"] = [{"url": "/api/v1"}]
    for path in own_root:
        out["paths"][path]["servers"] = [{"url": "/"}]
    return out
