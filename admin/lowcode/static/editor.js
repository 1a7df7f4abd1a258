// The form and app editor, for a teacher rather than a developer: each field is its label (Chinese, and
// English if wanted), a kind, "required", bounds, and options as rows; the field's key is made by the server
// from the label when the field is first saved and never changes after (submissions keep their data), shown
// only under "advanced". The state and the publish button sit in a bar at the top; publishing asks first.
// A preview beside the editor shows the form as a parent will see it, at phone width, in Chinese or English.
// Fields the editor does not understand (nested objects, arrays…) are kept exactly as they are.
(() => {
  "use strict";
  const root = document.getElementById("editor");
  if (!root) return;
  const D = JSON.parse(document.getElementById("definition").textContent);
  const L = D.labels;
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (sel) => root.querySelector(sel);
  const kinds = ["text", "textarea", "integer", "number", "date", "select", "radio", "boolean", "student", "class"];
  const choice = (k) => k === "select" || k === "radio";
  const say = (text, vars) => text.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ""));
  let refs = 0;
  const newRef = () => `new-${++refs}`;

  const el = (tag, attrs = {}, ...kids) => {
    const n = document.createElement(tag);
    Object.entries(attrs).forEach(([k, v]) => {
      if (v === false || v === null || v === undefined) return;
      if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
      else if (k === "checked" || k === "value") n[k] = v;
      else n.setAttribute(k, v === true ? "" : v);
    });
    kids.flat().forEach((c) => c !== null && c !== undefined && n.append(c));
    return n;
  };

  // -- the model: fields as the server described them -------------------------------------------------------
  let fields = D.fields.map((f) => ({...f, ref: null, options: (f.options || []).map((o) => ({...o}))}));
  const idOf = (f) => f.key || f.ref;  // what rules and the chart point at until the server gives a key
  const nameOf = (f) => (D.lang === "en" ? f.label.en || f.label.zh : f.label.zh || f.label.en) || L.no_label;
  let published = D.published;  // the latest published version, or null
  let changed = D.changed;  // the draft differs from it
  let unsaved = false;
  const app = D.app || {};

  function touched() {
    unsaved = true;
    changed = true;
    drawState();
    $("#save-state").textContent = L.unsaved;
    schedulePreview();
  }

  // -- drawing ---------------------------------------------------------------------------------------------
  function drawState() {
    const state = $("#publish-state");
    state.className = `state ${published ? "state-published" : "state-draft"}`;
    state.textContent = !published ? L.state_draft
      : say(changed ? L.state_changed : L.state_published, {n: published});
    const [mine, other] = D.lang === "en" ? ["#title-en", "#title-zh"] : ["#title-zh", "#title-en"];
    $("#bar-title").textContent = $(mine).value || $(other).value;
  }

  function labelInputs(f, i, prefix) {
    const zh = el("input", {class: `${prefix}-title`, value: f.label.zh, maxlength: 120,
      oninput: (e) => { f.label.zh = e.target.value; head(i).textContent = nameOf(f); touched(); }});
    const en = el("input", {class: `${prefix}-title-en`, value: f.label.en, maxlength: 120, lang: "en",
      oninput: (e) => { f.label.en = e.target.value; touched(); }});
    return el("div", {class: "pair"}, el("label", {}, L.label_zh, " ", zh), el("label", {}, L.label_en, " ", en));
  }
  const head = (i) => root.querySelectorAll("#fields > li")[i].querySelector(".field-name");

  function fieldCard(f, i) {
    const li = el("li", {class: "card field", "data-key": f.key || "", "data-ref": f.ref || ""});
    const tools = el("span", {class: "tools"},
      el("button", {type: "button", class: "small secondary", "aria-label": `${L.up}：${nameOf(f)}`, title: L.up,
                    disabled: i === 0, onclick: () => move(fields, i, -1)}, "↑"),
      el("button", {type: "button", class: "small secondary", "aria-label": `${L.down}：${nameOf(f)}`, title: L.down,
                    disabled: i === fields.length - 1, onclick: () => move(fields, i, 1)}, "↓"),
      el("button", {type: "button", class: "small danger", "aria-label": `${L.remove}：${nameOf(f)}`,
                    onclick: () => { fields.splice(i, 1); touched(); draw(); }}, L.remove));
    li.append(el("div", {class: "field-head"},
      el("span", {class: "field-no", "aria-hidden": "true"}, `${i + 1}`),
      el("strong", {class: "field-name"}, nameOf(f)),
      el("span", {class: "kind-badge"}, f.kind === "advanced" ? L.kind_advanced : L.kinds[f.kind]),
      tools));
    li.append(labelInputs(f, i, "f"));
    const row = el("div", {class: "row"});
    if (f.kind === "advanced") {
      row.append(el("span", {class: "note"}, L.advanced_kept));
    } else {
      row.append(el("label", {}, L.kind, " ", el("select", {class: "f-kind", onchange: (e) => {
        f.kind = e.target.value;
        if (choice(f.kind) && !f.options.length) f.options = [{value: null, label: {zh: "", en: ""}}];
        touched(); draw();
      }}, kinds.map((k) => el("option", {value: k, selected: k === f.kind}, L.kinds[k])))));
    }
    row.append(el("label", {class: "check"}, el("input", {type: "checkbox", class: "f-required", checked: f.required,
      onchange: (e) => { f.required = e.target.checked; touched(); }}), " ", L.required));
    li.append(row);
    if (f.kind === "integer" || f.kind === "number") {
      const bound = (part, cls) => el("label", {}, L[part], " ", el("input", {type: "number", class: cls,
        value: f[part] ?? "", step: "any", oninput: (e) => { f[part] = e.target.value === "" ? null : Number(e.target.value); touched(); }}));
      li.append(el("div", {class: "row"}, bound("min", "f-min"), bound("max", "f-max")));
    }
    if (choice(f.kind)) li.append(optionRows(f));
    li.append(el("details", {class: "advanced"}, el("summary", {}, L.advanced),
      f.key ? el("p", {}, `${L.key_is} `, el("code", {class: "f-key"}, f.key)) : null,
      el("p", {class: "note"}, f.published ? L.key_published : L.key_draft)));
    li.append(el("p", {class: "field-problem", role: "alert", hidden: true}));
    return li;
  }

  function optionRows(f) {
    const list = el("ol", {class: "option-rows"});
    f.options.forEach((o, j) => {
      const n = say(L.option_n, {n: j + 1});
      list.append(el("li", {class: "option-row"},
        el("label", {}, el("span", {class: "visually-hidden"}, `${n} `), L.option_zh, " ",
          el("input", {class: "o-zh", value: o.label.zh, maxlength: 120, oninput: (e) => { o.label.zh = e.target.value; touched(); }})),
        el("label", {}, el("span", {class: "visually-hidden"}, `${n} `), L.option_en, " ",
          el("input", {class: "o-en", value: o.label.en, maxlength: 120, lang: "en", oninput: (e) => { o.label.en = e.target.value; touched(); }})),
        el("span", {class: "tools"},
          el("button", {type: "button", class: "small secondary", "aria-label": `${L.up}：${n}`, title: L.up, disabled: j === 0,
                        onclick: () => move(f.options, j, -1)}, "↑"),
          el("button", {type: "button", class: "small secondary", "aria-label": `${L.down}：${n}`, title: L.down,
                        disabled: j === f.options.length - 1, onclick: () => move(f.options, j, 1)}, "↓"),
          el("button", {type: "button", class: "small danger o-remove", "aria-label": `${L.remove}：${n}`, title: L.remove,
                        onclick: () => { f.options.splice(j, 1); touched(); draw(); }}, "✕"))));
    });
    const add = el("button", {type: "button", class: "small secondary o-add", onclick: () => {
      f.options.push({value: null, label: {zh: "", en: ""}});
      touched(); draw();
      const rows = root.querySelectorAll(`#fields > li`)[fields.indexOf(f)].querySelectorAll(".o-zh");
      rows[rows.length - 1].focus();
    }}, `＋ ${L.add_option}`);
    return el("fieldset", {class: "options"}, el("legend", {}, L.options_rows), list, add);
  }

  function move(list, i, d) {
    const j = i + d;
    if (j < 0 || j >= list.length) return;
    [list[i], list[j]] = [list[j], list[i]];
    touched();
    draw();
  }

  function draw() {
    $("#fields").replaceChildren(...fields.map(fieldCard));
    drawRules();
    drawChart();
    flowEd.draw();
  }

  // -- the document sent to the server ---------------------------------------------------------------------
  function document_() {
    return {
      title: {zh: $("#title-zh").value.trim(), en: $("#title-en").value.trim() || $("#title-zh").value.trim()},
      description: {zh: $("#description-zh").value, en: $("#description-en").value},
      deadline: $("#deadline").value || null,
      fields: fields.map((f) => ({key: f.key, ref: f.key ? undefined : f.ref, label: f.label, kind: f.kind,
        required: f.required, min: f.min ?? null, max: f.max ?? null,
        options: choice(f.kind) ? f.options.map((o) => ({value: o.value, label: o.label})) : undefined})),
      app: appParts(),
    };
  }

  // -- app parts -------------------------------------------------------------------------------------------
  let rules = (app.rules || []).map((r) => ({...r, when: {...r.when}}));
  let chartBy = ((app.views || [])[0] || {}).chart?.by || "";
  const choiceFields = () => fields.filter((f) => ["select", "radio", "boolean", "class"].includes(f.kind));
  const numberFields = () => fields.filter((f) => f.kind === "integer" || f.kind === "number");
  const checked = (name) => [...root.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
  function appParts() {
    const out = {...app};
    // the parts of the audience the editor does not show (private, a plugin's own page) are kept as they are
    out.audience = {...(app.audience || {}), fill: checked("fill"), see: checked("see"), classes: checked("classes").map(Number)};
    const simple = fields.filter((f) => f.kind !== "advanced").map(idOf);
    const view = {key: "main", columns: simple.slice(0, 8), filters: choiceFields().map(idOf).slice(0, 4),
                  aggregates: [{op: "count"}, ...numberFields().slice(0, 2).map((f) => ({op: "avg", field: idOf(f)}))]};
    if (chartBy && fields.some((f) => idOf(f) === chartBy)) view.chart = {type: "bar", by: chartBy, measure: "count"};
    out.views = [view];
    out.rules = rules.filter((r) => r.when.field && fields.some((f) => idOf(f) === r.when.field));
    const approver = $("#approval-by").value;
    if (approver) out.approval = {by: approver, notify_submitter: true}; else delete out.approval;
    return flowEd.parts(out);
  }
  function drawChart() {
    $("#chart-by").replaceChildren(el("option", {value: ""}, "—"), ...choiceFields().map((f) =>
      el("option", {value: idOf(f), selected: idOf(f) === chartBy}, nameOf(f))));
  }
  const ops = ["eq", "ne", "gt", "gte", "lt", "lte", "contains", "empty", "not_empty"];
  function drawRules() {
    $("#rules").replaceChildren(...rules.map((r, i) => {
      const action = r.then.alert ? `alert:${r.then.alert.level}` : `message:${r.then.message.to}`;
      const fieldSel = el("select", {class: "r-field", "aria-label": L.rule_field, onchange: (e) => { r.when.field = e.target.value; touched(); }},
        el("option", {value: ""}, "—"), fields.map((f) => el("option", {value: idOf(f), selected: idOf(f) === r.when.field}, nameOf(f))));
      const opSel = el("select", {class: "r-op", "aria-label": L.rule_op, onchange: (e) => { r.when.op = e.target.value; touched(); }},
        ops.map((o) => el("option", {value: o, selected: o === r.when.op}, L.ops[o])));
      const value = el("input", {class: "r-value", "aria-label": L.rule_value, value: r.when.value ?? "", oninput: (e) => {
        const v = e.target.value.trim();
        r.when.value = v !== "" && !isNaN(Number(v)) ? Number(v) : v;
        touched();
      }});
      const act = el("select", {class: "r-action", "aria-label": L.rule_action, onchange: (e) => {
        const [kind, arg] = e.target.value.split(":");
        r.then = kind === "alert" ? {alert: {level: arg}} : {message: {to: arg}};
        touched();
      }}, D.actions.map(([v, label]) => el("option", {value: v, selected: v === action}, label)));
      return el("li", {class: "row"}, L.when, " ", fieldSel, opSel, value, " → ", act,
        el("button", {type: "button", class: "small danger", onclick: () => { rules.splice(i, 1); touched(); drawRules(); }}, L.remove));
    }));
  }
  // the approval flow's steps, CC and sample path (flow_editor.js)
  const flowEd = window.jizuoFlowEditor({root, D, el, say, touched, fields: () => fields, idOf, nameOf, ops, token});

  $("#add-rule").addEventListener("click", () => {
    rules.push({key: `rule_${rules.length + 1}_${Date.now() % 1000}`, when: {field: "", op: "gte", value: ""},
                then: {alert: {level: "yellow"}}});
    touched();
    drawRules();
  });
  $("#chart-by").addEventListener("change", (e) => { chartBy = e.target.value; touched(); });
  $("#add-field").addEventListener("click", () => {
    fields.push({key: null, ref: newRef(), label: {zh: "", en: ""}, kind: "text", required: false, options: [],
                 min: null, max: null, published: false});
    touched();
    draw();
    const cards = root.querySelectorAll("#fields > li");
    cards[cards.length - 1].querySelector(".f-title").focus();
  });
  ["#title-zh", "#title-en", "#description-zh", "#description-en", "#deadline"].forEach((sel) =>
    $(sel).addEventListener("input", touched));
  root.querySelectorAll(".editor-main input[type=checkbox][name], #approval-by").forEach((n) =>
    n.addEventListener("change", touched));

  // -- problems, named by field ----------------------------------------------------------------------------
  function showProblems(problems, intro) {
    const box = $("#problems");
    root.querySelectorAll(".field-problem").forEach((p) => { p.hidden = true; p.textContent = ""; });
    root.querySelectorAll(".has-problem").forEach((n) => n.classList.remove("has-problem"));
    const entries = Object.entries(problems || {});
    box.hidden = !entries.length;
    if (!entries.length) return;
    box.replaceChildren(el("p", {}, intro || L.problems), el("ul", {}, entries.map(([, m]) => el("li", {}, m))));
    flowEd.showProblems(entries);
    entries.forEach(([path, message]) => {
      const m = /^fields\/(\d+)/.exec(path);
      const card = m && root.querySelectorAll("#fields > li")[Number(m[1])];
      if (!card) return;
      card.classList.add("has-problem");
      const p = card.querySelector(".field-problem");
      p.textContent = p.textContent ? `${p.textContent}；${message}` : message;
      p.hidden = false;
    });
  }
  function toast(text, kind) {
    if (window.jizuo && window.jizuo.toast) window.jizuo.toast(text, kind);
  }

  // -- save and publish ------------------------------------------------------------------------------------
  async function call(url, method, body) {
    const resp = await fetch(url, {method, headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                                   body: body ? JSON.stringify(body) : undefined});
    let data = {};
    try { data = await resp.json(); } catch (e) { data = {error: {message: L.save_failed, fields: {}}}; }
    return [resp, data];
  }
  function adopt(body) {
    // the server's keys for new fields and options; rules and the chart follow their fields
    const renamed = body.renamed || {};
    const back = body.draft.fields;
    fields.forEach((f, i) => {
      const b = back[i];
      if (!b) return;
      f.key = b.key;
      f.ref = null;
      f.published = b.published;
      (b.options || []).forEach((o, j) => { if (f.options[j]) f.options[j].value = o.value; });
    });
    rules.forEach((r) => { if (renamed[r.when.field]) r.when.field = renamed[r.when.field]; });
    flowEd.renamed(renamed);
    if (renamed[chartBy]) chartBy = renamed[chartBy];
    draw();
  }
  async function save() {
    const [resp, body] = await call(`/api/v1/forms/${D.form_id}`, "PUT", document_());
    if (!resp.ok) {
      showProblems(body.error.fields || {}, body.error.message);
      toast(L.save_failed, "error");
      return false;
    }
    adopt(body);
    unsaved = false;
    changed = body.unpublished_changes;
    drawState();
    const problems = body.problem_messages || {};
    const ok = !Object.keys(problems).length;
    showProblems(problems, L.saved_with_problems);
    const time = new Date().toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
    $("#save-state").textContent = say(L.saved_at, {time});
    return ok;
  }
  $("#save").addEventListener("click", async () => { if (await save()) toast(L.saved); });

  const dialog = root.querySelector("#publish-dialog");
  $("#publish").addEventListener("click", async () => {
    if (!(await save())) return;
    root.querySelector("#publish-dialog-text").textContent =
      published ? say(L.confirm_again, {n: published + 1}) : L.confirm_first;
    dialog.returnValue = "";
    dialog.showModal();
  });
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "ok") return;
    const [resp, body] = await call(`/api/v1/forms/${D.form_id}/publish`, "POST");
    if (!resp.ok) { showProblems(body.error.fields || {}, body.error.message); toast(body.error.message, "error"); return; }
    published = body.published_version;
    changed = false;
    fields.forEach((f) => { f.published = true; });
    drawState();
    draw();
    $("#after-publish").hidden = false;
    toast(say(L.state_published, {n: published}));
  });

  // -- the preview: the unsaved document, rendered by the server as the fill page ----------------------------
  const previewForm = root.querySelector("#preview-form");
  let timer = null;
  function refreshPreview() {
    previewForm.elements.definition.value = JSON.stringify(document_());
    previewForm.submit();
  }
  function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(refreshPreview, 700);
  }
  root.querySelectorAll("[data-preview-lang]").forEach((b) => b.addEventListener("click", () => {
    previewForm.elements.preview_lang.value = b.dataset.previewLang;
    root.querySelectorAll("[data-preview-lang]").forEach((o) => o.setAttribute("aria-pressed", String(o === b)));
    refreshPreview();
  }));
  $("#preview-refresh").addEventListener("click", refreshPreview);

  // a teacher called away mid-edit is asked before the changes are lost
  window.addEventListener("beforeunload", (e) => { if (unsaved) { e.preventDefault(); e.returnValue = ""; } });

  draw();
  drawState();
})();
