"""Markup building and UI words for the low-code form renderer.

Every attribute value and text child goes through :func:`markupsafe.escape`; only :class:`Markup` built
here passes through unchanged, so nothing from a schema, UI schema, data or error message reaches the page
as raw HTML.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape

from foundation.i18n import t

VOID = frozenset({"input", "br", "hr", "img", "meta", "link"})


def tag(name: str, attrs: dict[str, Any] | None = None, *children: Any) -> Markup:
    """``<name attrs>children</name>``: attributes valued None/False are left out, True ones are bare."""
    head = [name]
    for key, value in (attrs or {}).items():
        if value is None or value is False:
            continue
        head.append(key if value is True else f'{key}="{escape(value)}"')
    start = Markup("<" + " ".join(head) + ">")
    if name in VOID:
        return start
    return start + join(children) + Markup(f"</{name}>")


def join(parts: Iterable[Any]) -> Markup:
    """Concatenate markup and (escaped) text, flattening lists and skipping None."""
    out = Markup("")
    for part in parts:
        if part is None:
            continue
        if isinstance(part, list | tuple):
            out += join(part)
        else:
            out += escape(part)
    return out


WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "add": "添加",
        "remove": "删除",
        "choose": "请选择…",
        "choose_one": "选择一种",
        "option": "选项 {n}",
        "yes": "是",
        "no": "否",
        "required": "（必填）",
        "summary": "请更正以下问题：",
        "no_options": "没有可选的{what}",
        "not_in_options": "已保存的值不在可选范围内，保存时将被清除。",
        "student": "学生",
        "class": "班级",
        "staff": "教职工",
        "key": "名称",
        "value": "内容",
        "entry": "条目",
        "position": "第 {n} 项",
    },
    "en": {
        "add": "Add",
        "remove": "Remove",
        "choose": "Choose…",
        "choose_one": "Choose one",
        "option": "Option {n}",
        "yes": "Yes",
        "no": "No",
        "required": " (required)",
        "summary": "Please correct the following:",
        "no_options": "No {what} available",
        "not_in_options": "The saved value is not among the available options and will be cleared on save.",
        "student": "students",
        "class": "classes",
        "staff": "staff",
        "key": "Name",
        "value": "Value",
        "entry": "Entry",
        "position": "Item {n}",
    },
}

def words_for(lang: str) -> tuple[str, dict[str, str]]:
    """The UI words for ``lang`` ("zh", "en", "zh-CN", "en-GB" …; anything else falls back to Chinese)."""
    code = (lang or "zh").split("-")[0].split("_")[0].lower()
    code = code if code in WORDS else "zh"
    return code, WORDS[code]


def reason(code: str, detail: str, lang: str) -> str:
    """Why something cannot be drawn, in ``lang``: ``lowcode.unsupported.<code>`` in the catalogues (the
    publish check refuses the form with the same words)."""
    return t(problem_key(code, detail), lang)


def problem_key(code: str, detail: str = "") -> str:
    return f"lowcode.unsupported.{code}" + (f":{detail}" if detail else "")
