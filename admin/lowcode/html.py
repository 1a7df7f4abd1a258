"""Markup building and UI words for the low-code form renderer.

Every attribute value and text child goes through :func:`markupsafe.escape`; only :class:`Markup` built
here passes through unchanged, so nothing from a schema, UI schema, data or error message reaches the page
as raw HTML.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape

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
        "unsupported": "此字段暂不支持：",
        "summary": "请更正以下问题：",
        "no_options": "没有可选的{what}",
        "not_in_options": "已保存的值不在可选范围内，保存时将被清除。",
        "student": "学生",
        "class": "班级",
        "staff": "教职工",
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
        "unsupported": "Not supported: ",
        "summary": "Please correct the following:",
        "no_options": "No {what} available",
        "not_in_options": "The saved value is not among the available options and will be cleared on save.",
        "student": "students",
        "class": "classes",
        "staff": "staff",
    },
}

# Why something cannot be rendered: (English — also used in RenderResult.unsupported, Chinese).
REASONS: dict[str, tuple[str, str]] = {
    "external_ref": ("$ref to another document ({detail})", "引用了外部文档（{detail}）"),
    "bad_ref": ("$ref {detail} does not resolve", "引用 {detail} 无法解析"),
    "recursive_ref": ("recursive $ref {detail}", "递归引用 {detail}"),
    "dynamic_ref": ("$dynamicRef/$recursiveRef", "动态引用 $dynamicRef/$recursiveRef"),
    "invalid_schema": ("not a schema object", "不是有效的 schema"),
    "pattern_properties": ("patternProperties", "patternProperties（按名称模式的属性）"),
    "additional_properties": ("additionalProperties with a schema", "带 schema 的 additionalProperties"),
    "unevaluated_properties": ("unevaluatedProperties with a schema", "带 schema 的 unevaluatedProperties"),
    "not": ("'not'", "“not” 条件"),
    "prefix_items": ("tuple arrays (prefixItems / items as a list)", "元组数组（prefixItems）"),
    "contains": ("'contains' (checked on save only)", "“contains” 条件（仅在保存时校验）"),
    "unevaluated_items": ("unevaluatedItems with a schema", "带 schema 的 unevaluatedItems"),
    "no_items": ("an array without an 'items' schema", "未定义 items 的数组"),
    "type_union": ("a field of several types ({detail})", "多种类型的字段（{detail}）"),
    "null_type": ("a field of type null", "null 类型的字段"),
    "unknown_type": ("type {detail}", "类型 {detail}"),
    "mixed_choice": ("oneOf/anyOf whose options are neither objects nor const values",
                     "oneOf/anyOf 的选项既不是对象也不是常量"),
    "all_of": ("allOf combining several oneOf/anyOf", "allOf 中组合了多个 oneOf/anyOf"),
    "property_name": ("property name {detail} (no '.', whitespace, quotes, backslash or '~')",
                      "属性名 {detail}（不能含 “.”、空白、引号、反斜杠或 “~”）"),
    "unknown_widget": ("ui:widget {detail}; shown with the default widget", "ui:widget {detail}，已改用默认控件"),
    "widget_mismatch": ("ui:widget {detail} for this type; shown with the default widget",
                        "ui:widget {detail} 不适用于此类型，已改用默认控件"),
    "ui_field": ("{detail} (custom fields and templates)", "{detail}（自定义字段或模板）"),
    "condition": ("an 'if' the browser cannot evaluate; fields shown according to the saved data",
                  "浏览器无法判断的 “if” 条件，相关字段按已保存的数据显示"),
    "dependency": ("a dependency option without a value for {detail}", "依赖选项未给出 {detail} 的取值"),
    "binding": ("binding {detail}", "数据绑定 {detail}"),
    "content": ("file content (contentEncoding/contentMediaType)", "文件内容（contentEncoding/contentMediaType）"),
    "root": ("a form whose root is not an object", "根节点不是对象的表单"),
}


def words_for(lang: str) -> tuple[str, dict[str, str]]:
    """The UI words for ``lang`` ("zh", "en", "zh-CN", "en-GB" …; anything else falls back to Chinese)."""
    code = (lang or "zh").split("-")[0].split("_")[0].lower()
    code = code if code in WORDS else "zh"
    return code, WORDS[code]


def reason(code: str, detail: str, lang: str) -> str:
    en, zh = REASONS[code]
    return (zh if lang == "zh" else en).format(detail=detail)
