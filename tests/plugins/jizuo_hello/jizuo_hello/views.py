"""The page and the API. The host answers 404 for schools where the plugin is not enabled; within the
schools it is enabled for, each view picks the principal's school and checks a capability there."""
from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, redirect, render_template_string, request

from foundation.plugin_api import (
    APIError,
    Principal,
    ValidationFailed,
    enabled_schools,
    plugin_config,
    require,
)
from jizuo_hello import store

NAME = "hello"
PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>问候墙</title></head>
<body><h1>{{ greeting }}，{{ who }}！</h1>
<h2>本校的问候</h2>
<ul>{% for r in rows %}<li>{{ r.text }}</li>{% else %}<li>还没有问候。</li>{% endfor %}</ul>
</body></html>"""


def blueprint() -> Blueprint:
    """A new blueprint per app: the host adds its per-school gate to it."""
    bp = Blueprint(NAME, __name__, url_prefix="/hello")
    bp.add_url_rule("/", "page", page)
    bp.add_url_rule("/api/greetings", "list_greetings", list_greetings, methods=["GET"])
    bp.add_url_rule("/api/greetings", "create_greeting", create_greeting, methods=["POST"])
    return bp


def _school(capability: str) -> tuple[Principal, int]:
    """The principal and the one school, among theirs where the plugin is enabled, they act for."""
    p = g.get("principal")
    if p is None:
        raise APIError("unauthorized", 401)
    schools = p.school_ids() & enabled_schools(NAME)
    wanted = request.args.get("school_id", type=int)
    if wanted is not None:
        schools &= {wanted}
    if not schools:
        abort(404)
    if len(schools) > 1:
        raise ValidationFailed({"school_id": ["field.required"]})
    school = next(iter(schools))
    require(p, capability, school)
    return p, school


def _config(school_id: int) -> dict:
    config = plugin_config(NAME, school_id)
    return config or {}


def _view(row: dict) -> dict:
    return {"id": row["id"], "text": row["text"], "author_account_id": row["author_account_id"],
            "created_at": row["created_at"].isoformat() + "Z"}


def page():
    if g.get("principal") is None:
        return redirect("/login")
    p, school = _school("hello.greeting.read")
    return render_template_string(PAGE, greeting=_config(school).get("greeting", "你好"), who=p.display_name,
                                  rows=store.list_greetings(school))


def list_greetings():
    _, school = _school("hello.greeting.read")
    return jsonify({"school_id": school, "items": [_view(r) for r in store.list_greetings(school)]})


def create_greeting():
    p, school = _school("hello.greeting.create")
    body = request.get_json(silent=True)
    text = body.get("text") if isinstance(body, dict) else None
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        raise ValidationFailed({"text": ["field.required"]})
    if len(text) > 200:
        raise ValidationFailed({"text": ["field.length:200"]})
    if store.count_today(school, p.account_id) >= _config(school).get("max_per_day", 10):
        raise ValidationFailed({"text": ["hello.max_per_day"]})
    return jsonify(_view(store.add_greeting(school, p.account_id, text))), 201
