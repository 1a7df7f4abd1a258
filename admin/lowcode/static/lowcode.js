// Low-code forms (admin/lowcode): add and remove array rows — cloning the row <template> and renumbering
// the indexed field names (f.items.0.name) — and show/hide conditional fields (data-show-if) and toggle
// conditional requirements (data-required-if) as the controlling fields change. No inline handlers, so it
// works under a strict Content-Security-Policy: load it with <script src=".../lowcode.js" defer>.
(() => {
  "use strict";

  const ATTRS = ["name", "id", "for", "aria-describedby", "data-field", "data-array", "data-show-if", "data-required-if"];
  const CONTROLS = "input:not([type=hidden]), select, textarea";

  const scopeOf = (el) => el.closest("form") || el.closest("[data-lowcode-form]") || document;
  const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  // -- array rows ----------------------------------------------------------------------------------------
  function rowsOf(list) {
    const box = list.querySelector(":scope > [data-rows]");
    return box ? [...box.children].filter((el) => el.hasAttribute("data-row")) : [];
  }

  function limits(list) {
    const max = list.dataset.maxItems;
    return {min: Number(list.dataset.minItems || 0), max: max === undefined ? Infinity : Number(max)};
  }

  // Rewrite "<array name>.<anything>" to "<array name>.<k>" in the naming attributes of a row, including
  // inside nested <template> rows (whose content is a separate fragment).
  function rewrite(root, pattern, replacement) {
    const elements = root.nodeType === Node.DOCUMENT_FRAGMENT_NODE ? [] : [root];
    elements.push(...root.querySelectorAll("*"));
    for (const el of elements) {
      for (const attr of ATTRS) {
        const value = el.getAttribute(attr);
        if (value === null) continue;
        const next = value.replace(pattern, replacement);
        if (next !== value) el.setAttribute(attr, next);
      }
      if (el.tagName === "TEMPLATE") rewrite(el.content, pattern, replacement);
    }
  }

  function renumber(list) {
    const base = list.dataset.array;
    const pattern = new RegExp('(^|[\\s"])' + escapeRe(base) + '\\.[^.\\s"]+', "g");
    const {min, max} = limits(list);
    const rows = rowsOf(list);
    rows.forEach((row, k) => {
      rewrite(row, pattern, (_, lead) => `${lead}${base}.${k}`);
      for (const number of row.querySelectorAll(".row-number")) {
        if (number.closest("[data-row]") === row) number.textContent = String(k + 1);
      }
      const remove = row.querySelector(':scope > [data-lowcode="remove"]');
      if (remove) remove.disabled = rows.length <= min;
    });
    const add = list.querySelector(':scope > [data-lowcode="add"]');
    if (add) add.disabled = rows.length >= max;
  }

  function addRow(list) {
    const template = list.querySelector(":scope > template[data-template]");
    const box = list.querySelector(":scope > [data-rows]");
    if (!template || !box || rowsOf(list).length >= limits(list).max) return;
    const row = template.content.firstElementChild.cloneNode(true);
    box.appendChild(row);
    renumber(list);
    refresh(scopeOf(list));
    const first = row.querySelector(CONTROLS);
    if (first) first.focus();
  }

  function removeRow(button) {
    const row = button.closest("[data-row]");
    const list = row && row.closest("[data-array]");
    if (!list || rowsOf(list).length <= limits(list).min) return;
    row.remove();
    renumber(list);
    refresh(scopeOf(list));
    const add = list.querySelector(':scope > [data-lowcode="add"]');
    const rows = rowsOf(list);
    const target = rows.length ? rows[rows.length - 1].querySelector(CONTROLS) : add;
    if (target) target.focus();
  }

  // -- conditions ----------------------------------------------------------------------------------------
  // The non-empty values a field currently submits (disabled fields submit nothing).
  function valuesOf(scope, name) {
    const out = [];
    for (const el of scope.querySelectorAll(`[name="${CSS.escape(name)}"]`)) {
      if (el.matches(":disabled") || el.hasAttribute("data-unchecked")) continue;
      if (el.type === "checkbox" && el.hasAttribute("data-boolean")) out.push(el.checked ? "true" : "false");
      else if (el.type === "checkbox" || el.type === "radio") { if (el.checked) out.push(el.value); }
      else if (el.tagName === "SELECT") out.push(...[...el.selectedOptions].map((o) => o.value));
      else out.push(el.value);
    }
    return out.filter((v) => v !== "");
  }

  function matches(value, expected) {
    if (typeof expected === "number") return value.trim() !== "" && Number(value) === expected;
    if (expected === null || typeof expected === "object") return value === JSON.stringify(expected);
    return value === String(expected);
  }

  // {"field": name, "in": [values]} | {"field": name, "present": bool} | {"all"|"any": [...]} | {"not": c}
  function test(cond, scope) {
    if (cond.all) return cond.all.every((c) => test(c, scope));
    if (cond.any) return cond.any.some((c) => test(c, scope));
    if (cond.not) return !test(cond.not, scope);
    const values = valuesOf(scope, cond.field);
    if ("present" in cond) return (values.length > 0) === cond.present;
    if ("in" in cond) return values.some((v) => cond.in.some((e) => matches(v, e)));
    return true;
  }

  function parse(json) {
    try { return JSON.parse(json); } catch (e) { return null; }
  }

  function refreshOnce(scope) {
    let changed = false;
    for (const el of scope.querySelectorAll("[data-show-if]")) {
      if (el.closest("template")) continue;
      const cond = parse(el.dataset.showIf);
      if (!cond) continue;
      const show = test(cond, scope);
      if (el.hidden !== !show) { el.hidden = !show; changed = true; }
      if (el.tagName === "FIELDSET") el.disabled = !show;
    }
    for (const el of scope.querySelectorAll("[data-required-if]")) {
      const cond = parse(el.dataset.requiredIf);
      if (!cond) continue;
      const required = test(cond, scope);
      const own = (node) => node.closest("[data-field]") === el;
      for (const control of el.querySelectorAll(CONTROLS)) {
        if (own(control) && control.type !== "checkbox") control.required = required;
      }
      for (const marker of el.querySelectorAll(".required")) if (own(marker)) marker.hidden = !required;
    }
    return changed;
  }

  // A branch's controlling field may itself sit in a branch: repeat until nothing changes.
  function refresh(scope) {
    for (let i = 0; i < 5 && refreshOnce(scope); i++);
  }

  // -- wiring --------------------------------------------------------------------------------------------
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-lowcode]");
    if (!button || !button.closest("[data-lowcode-form]")) return;
    if (button.dataset.lowcode === "add") addRow(button.closest("[data-array]"));
    else if (button.dataset.lowcode === "remove") removeRow(button);
  });
  for (const type of ["change", "input"]) {
    document.addEventListener(type, (event) => {
      if (event.target.closest && event.target.closest("[data-lowcode-form]")) refresh(scopeOf(event.target));
    });
  }

  function init() {
    for (const form of document.querySelectorAll("[data-lowcode-form]")) {
      for (const list of form.querySelectorAll("[data-array]")) renumber(list);
      refresh(scopeOf(form));
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
