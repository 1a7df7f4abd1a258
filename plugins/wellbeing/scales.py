"""PHQ-9 and GAD-7 as low-code templates (``jizuo_form_templates``), in Chinese and English. A school clones
one in the form editor and adds its own questions; the scored items (``item1``…) and the audience are
locked, so the platform refuses to publish a clone that changes or removes them. The audience's ``plugin``
means the form is filled only on this plugin's page: no low-code submission ever holds the answers, so no
core page that lists submissions can show them. A screening takes the school's clone (``form_id``); its
extra questions are the clone's fields beyond the scored ones."""
from __future__ import annotations

from typing import Any

from foundation.plugin_api import template_form, template_forms
from plugins.wellbeing import scoring

TEMPLATE = {"phq9": "wellbeing:phq9", "gad7": "wellbeing:gad7"}
KINDS = {"string", "integer", "number", "boolean"}


def item_key(n: int) -> str:
    return f"item{n + 1}"


def template(key: str) -> dict[str, Any]:
    scale = scoring.instrument(key)
    options = [{"const": o["value"], "title": o["zh"], "x-jizuo-title": {"zh": o["zh"], "en": o["en"]}}
               for o in scale["options"]]
    props = {item_key(n): {"type": "integer", "title": f"{n + 1}. {q['zh']}",
                           "x-jizuo-title": {"zh": f"{n + 1}. {q['zh']}", "en": f"{n + 1}. {q['en']}"},
                           "oneOf": options}
             for n, q in enumerate(scale["items"])}
    keys = list(props)
    return {
        "id": key, "title": scale["title"],
        "schema": {"type": "object", "title": scale["title"]["zh"], "description": scale["stem"]["zh"],
                   "required": keys, "properties": props},
        "ui_schema": {"ui:order": [*keys, "*"], **{k: {"ui:widget": "radio"} for k in keys}},
        "app": {"audience": {"plugin": "wellbeing", "private": True, "see": []}},
        "locked": [*(f"/schema/properties/{k}" for k in keys), "/app/audience/plugin", "/app/audience/private"],
    }


def templates() -> list[dict[str, Any]]:
    return [template(k) for k in scoring.INSTRUMENTS]


def clone_questions(sess: Any, form_id: Any, school_id: int) -> tuple[str, dict[str, Any]] | None:
    """(instrument, {"id", "version", "questions"}) of a school's published clone of PHQ-9 or GAD-7, or None.
    The questions are the clone's own fields (never scored), in its order, each with its labels and kind."""
    form = template_form(sess, form_id, school_id)
    instrument = next((k for k, v in TEMPLATE.items() if form and form["template"] == v), None)
    if instrument is None:
        return None
    scored = {item_key(n) for n in range(scoring.instrument(instrument)["scored_items"])}
    props = form["schema"].get("properties") or {}
    order = [k for k in (form["ui_schema"].get("ui:order") or []) if k in props]
    order += [k for k in props if k not in order]
    required = set(form["schema"].get("required") or [])
    questions = []
    for k in order:
        p = props[k]
        if k in scored or not isinstance(p, dict) or p.get("type") not in KINDS or p.get("x-jizuo-binding"):
            continue
        titles = p.get("x-jizuo-title") or {}
        zh = titles.get("zh") or p.get("title") or k
        q = {"key": k, "zh": zh, "en": titles.get("en") or zh, "type": p["type"], "required": k in required}
        choices = p.get("oneOf") or [{"const": v, "title": str(v)} for v in p.get("enum") or []]
        if choices:
            q["options"] = [{"value": c.get("const"), "zh": (c.get("x-jizuo-title") or {}).get("zh") or c.get("title"),
                             "en": (c.get("x-jizuo-title") or {}).get("en") or c.get("title")} for c in choices]
        questions.append(q)
    title = (form["title"] or {}).get("zh") if isinstance(form["title"], dict) else None
    return instrument, {"id": form["id"], "version": form["version"], "title": title, "questions": questions[:30]}


def clones(sess: Any, school_id: int) -> list[dict[str, Any]]:
    """The school's published clones of PHQ-9 and GAD-7, to schedule a screening on: id, title, scale."""
    scale = {v: scoring.instrument(k)["scale"] for k, v in TEMPLATE.items()}
    return [{"id": f["id"], "title": f["title"], "scale": scale[f["template"]]}
            for f in template_forms(sess, school_id, set(TEMPLATE.values()))]
