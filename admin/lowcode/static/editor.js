// The form and app editor: a teacher adds, removes and reorders fields, changes labels, options, required
// and bounds, chooses the classes the app is published to, its rules and its approval — without code.
// Fields the editor does not understand (nested objects, arrays…) are kept exactly as they are.
(() => {
  const root = document.getElementById("editor");
  if (!root) return;
  const D = JSON.parse(document.getElementById("definition").textContent);
  const L = D.labels;
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const props = D.schema.properties || {};
  const required = new Set(D.schema.required || []);
  const order = (D.ui_schema["ui:order"] || []).filter((k) => k in props);
  Object.keys(props).forEach((k) => { if (!order.includes(k)) order.push(k); });

  function kindOf(p, ui) {
    if (p["x-jizuo-binding"] === "student") return "student";
    if (p["x-jizuo-binding"] === "class") return "class";
    if (p.type === "boolean") return "boolean";
    if (p.type === "integer" || p.type === "number") return p.type;
    if (p.type !== "string") return "advanced";
    if (p.oneOf || p.enum) return (ui["ui:widget"] === "radio") ? "radio" : "select";
    if (p.format === "date") return "date";
    return ui["ui:widget"] === "textarea" ? "textarea" : "text";
  }
  function optionsOf(p, ui) {
    if (p.oneOf) return p.oneOf.map((o) => ({value: o.const, label: o.title || o.const}));
    const names = ui["ui:enumNames"] || [];
    return (p.enum || []).map((v, i) => ({value: v, label: names[i] || v}));
  }
  let fields = order.map((key) => {
    const p = props[key], ui = D.ui_schema[key] || {};
    return {key, raw: p, ui, kind: kindOf(p, ui), title: p.title || key, required: required.has(key),
            options: optionsOf(p, ui), min: p.minimum ?? "", max: p.maximum ?? ""};
  });
  let seq = fields.length;
  const app = D.app || {};
  const audience = app.audience || {};

  const el = (tag, attrs = {}, ...kids) => {
    const n = document.createElement(tag);
    Object.entries(attrs).forEach(([k, v]) => (k.startsWith("on") ? n.addEventListener(k.slice(2), v)
      : k === "checked" ? (n.checked = v) : n.setAttribute(k, v)));
    kids.flat().forEach((c) => n.append(c));
    return n;
  };
  const kinds = ["text", "textarea", "integer", "number", "date", "select", "radio", "boolean", "student", "class"];

  function fieldRow(f, i) {
    const li = el("li", {class: "card field", "data-key": f.key});
    const title = el("input", {value: f.title, "aria-label": L.label, class: "f-title",
                               oninput: (e) => { f.title = e.target.value; }});
    const head = el("div", {class: "row"}, el("label", {}, L.label, " ", title));
    if (f.kind === "advanced") {
      head.append(el("span", {class: "note"}, " ", L.advanced));
    } else {
      const kind = el("select", {"aria-label": L.kind, class: "f-kind",
                                 onchange: (e) => { f.kind = e.target.value; draw(); }},
        kinds.map((k) => el("option", {value: k, ...(k === f.kind ? {selected: "selected"} : {})}, L.kinds[k])));
      head.append(el("label", {}, " ", L.kind, " ", kind));
    }
    head.append(el("label", {}, " ", el("input", {type: "checkbox", class: "f-required", checked: f.required,
                                                   onchange: (e) => { f.required = e.target.checked; }}), L.required));
    li.append(head);
    if (f.kind === "integer" || f.kind === "number") {
      li.append(el("div", {class: "row"},
        el("label", {}, L.min, " ", el("input", {type: "number", class: "f-min", value: f.min, oninput: (e) => { f.min = e.target.value; }})),
        el("label", {}, " ", L.max, " ", el("input", {type: "number", class: "f-max", value: f.max, oninput: (e) => { f.max = e.target.value; }}))));
    }
    if (f.kind === "select" || f.kind === "radio") {
      const text = f.options.map((o) => (o.label === o.value ? o.value : `${o.value}=${o.label}`)).join("\n");
      li.append(el("label", {class: "block"}, L.options, el("textarea", {rows: 3, class: "f-options",
        oninput: (e) => { f.options = parseOptions(e.target.value); }}, text)));
    }
    li.append(el("div", {class: "row tools"},
      el("code", {class: "note"}, f.key),
      el("button", {type: "button", class: "small", "aria-label": `${L.up} ${f.title}`, onclick: () => move(i, -1)}, "↑"),
      el("button", {type: "button", class: "small", "aria-label": `${L.down} ${f.title}`, onclick: () => move(i, 1)}, "↓"),
      el("button", {type: "button", class: "small danger", onclick: () => remove(i)}, L.remove)));
    return li;
  }
  function parseOptions(text) {
    return text.split("\n").map((s) => s.trim()).filter(Boolean).map((s) => {
      const [v, ...rest] = s.split("=");
      return {value: v.trim(), label: (rest.join("=") || v).trim()};
    });
  }
  function move(i, d) {
    const j = i + d;
    if (j < 0 || j >= fields.length) return;
    [fields[i], fields[j]] = [fields[j], fields[i]];
    draw();
  }
  function remove(i) { fields.splice(i, 1); draw(); }

  function draw() {
    const list = root.querySelector("#fields");
    list.replaceChildren(...fields.map(fieldRow));
    drawRules();
    drawChart();
  }

  // -- schema out ------------------------------------------------------------------------------------------
  function propertyOf(f) {
    const keep = {...f.raw};
    ["type", "format", "enum", "oneOf", "minimum", "maximum", "x-jizuo-binding"].forEach((k) => delete keep[k]);
    const p = f.kind === "advanced" ? {...f.raw} : keep;
    p.title = f.title;
    if (f.kind === "advanced") return p;
    if (["text", "textarea", "date", "select", "radio", "student", "class"].includes(f.kind)) p.type = "string";
    if (f.kind === "date") p.format = "date";
    if (f.kind === "student" || f.kind === "class") p["x-jizuo-binding"] = f.kind;
    if (f.kind === "select" || f.kind === "radio") p.oneOf = f.options.map((o) => ({const: o.value, title: o.label}));
    if (f.kind === "boolean") p.type = "boolean";
    if (f.kind === "integer" || f.kind === "number") {
      p.type = f.kind;
      if (f.min !== "") p.minimum = Number(f.min);
      if (f.max !== "") p.maximum = Number(f.max);
    }
    if (!["text", "textarea"].includes(f.kind)) { delete p.minLength; delete p.maxLength; delete p.pattern; }
    return p;
  }
  function uiOf(f) {
    const ui = {...f.ui};
    delete ui["ui:widget"];
    delete ui["ui:enumNames"];
    if (f.kind === "radio") ui["ui:widget"] = "radio";
    if (f.kind === "textarea") ui["ui:widget"] = "textarea";
    if (f.kind === "advanced" && f.ui["ui:widget"]) ui["ui:widget"] = f.ui["ui:widget"];
    return ui;
  }
  function scrub(schema, keys) {
    // conditions that name a removed field would make the form impossible to fill
    ["then", "else"].forEach((k) => { if (schema[k] && schema[k].required) schema[k].required = schema[k].required.filter((r) => keys.has(r)); });
    if (schema.if && schema.if.properties && !Object.keys(schema.if.properties).every((k) => keys.has(k))) {
      delete schema.if; delete schema.then; delete schema.else;
    }
    if (schema.dependencies) {
      Object.keys(schema.dependencies).forEach((k) => {
        const dep = schema.dependencies[k];
        if (!keys.has(k) || (Array.isArray(dep) && !dep.every((d) => keys.has(d)))) delete schema.dependencies[k];
      });
    }
    return schema;
  }
  function definition() {
    const schema = {...D.schema, properties: {}, required: []};
    const ui = {"ui:order": fields.map((f) => f.key)};
    fields.forEach((f) => {
      schema.properties[f.key] = propertyOf(f);
      if (f.required) schema.required.push(f.key);
      const u = uiOf(f);
      if (Object.keys(u).length) ui[f.key] = u;
    });
    scrub(schema, new Set(fields.map((f) => f.key)));
    return {title: {zh: root.querySelector("#title-zh").value, en: root.querySelector("#title-en").value},
            schema, ui_schema: ui, app: appParts()};
  }

  // -- app parts ---------------------------------------------------------------------------------------------
  let rules = (app.rules || []).map((r) => ({...r}));
  let chartBy = ((app.views || [])[0] || {}).chart?.by || "";
  const choiceFields = () => fields.filter((f) => ["select", "radio", "boolean", "class"].includes(f.kind));
  const numberFields = () => fields.filter((f) => f.kind === "integer" || f.kind === "number");
  function checked(name) { return [...root.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value); }
  function appParts() {
    const out = {...app};
    const classes = checked("classes").map(Number);
    out.audience = {fill: checked("fill"), see: checked("see"), classes};
    const simple = fields.filter((f) => f.kind !== "advanced").map((f) => f.key);
    const view = {key: "main", columns: simple.slice(0, 8),
                  filters: choiceFields().map((f) => f.key).slice(0, 4),
                  aggregates: [{op: "count"}, ...numberFields().slice(0, 2).map((f) => ({op: "avg", field: f.key}))]};
    if (chartBy && fields.some((f) => f.key === chartBy)) view.chart = {type: "bar", by: chartBy, measure: "count"};
    out.views = [view];
    out.rules = rules.filter((r) => r.when.field);
    const approver = root.querySelector("#approval-by").value;
    if (approver) out.approval = {by: approver, notify_submitter: true}; else delete out.approval;
    return out;
  }
  function drawChart() {
    const sel = root.querySelector("#chart-by");
    sel.replaceChildren(el("option", {value: ""}, "—"), ...choiceFields().map((f) =>
      el("option", {value: f.key, ...(f.key === chartBy ? {selected: "selected"} : {})}, f.title)));
  }
  const ops = ["eq", "ne", "gt", "gte", "lt", "lte", "contains", "empty", "not_empty"];
  function drawRules() {
    const box = root.querySelector("#rules");
    box.replaceChildren(...rules.map((r, i) => {
      const action = r.then.alert ? `alert:${r.then.alert.level}` : `message:${r.then.message.to}`;
      const fieldSel = el("select", {class: "r-field", "aria-label": L.rule_field, onchange: (e) => { r.when.field = e.target.value; }},
        el("option", {value: ""}, "—"), fields.map((f) => el("option", {value: f.key, ...(f.key === r.when.field ? {selected: "selected"} : {})}, f.title)));
      const opSel = el("select", {class: "r-op", "aria-label": L.rule_op, onchange: (e) => { r.when.op = e.target.value; }},
        ops.map((o) => el("option", {value: o, ...(o === r.when.op ? {selected: "selected"} : {})}, L.ops[o])));
      const value = el("input", {class: "r-value", "aria-label": L.rule_value, value: r.when.value ?? "", oninput: (e) => {
        const v = e.target.value.trim();
        r.when.value = v !== "" && !isNaN(Number(v)) ? Number(v) : v;
      }});
      const act = el("select", {class: "r-action", "aria-label": L.rule_action, onchange: (e) => {
        const [kind, arg] = e.target.value.split(":");
        r.then = kind === "alert" ? {alert: {level: arg}} : {message: {to: arg}};
      }}, D.actions.map(([v, label]) => el("option", {value: v, ...(v === action ? {selected: "selected"} : {})}, label)));
      return el("li", {class: "row"}, L.when, " ", fieldSel, opSel, value, " → ", act,
        el("button", {type: "button", class: "small danger", onclick: () => { rules.splice(i, 1); drawRules(); }}, L.remove));
    }));
  }
  root.querySelector("#add-rule").addEventListener("click", () => {
    rules.push({key: `rule_${rules.length + 1}_${Date.now() % 1000}`, when: {field: "", op: "gte", value: ""},
                then: {alert: {level: "yellow"}}});
    drawRules();
  });
  root.querySelector("#chart-by").addEventListener("change", (e) => { chartBy = e.target.value; });
  root.querySelector("#add-field").addEventListener("click", () => {
    seq += 1;
    let key = `field_${seq}`;
    while (fields.some((f) => f.key === key)) { seq += 1; key = `field_${seq}`; }
    fields.push({key, raw: {}, ui: {}, kind: "text", title: L.new_field, required: false, options: [], min: "", max: ""});
    draw();
    root.querySelector(`li[data-key="${key}"] .f-title`).focus();
  });

  // -- save and publish --------------------------------------------------------------------------------------
  const status = root.querySelector("#status");
  function show(ok, text, problems) {
    status.className = ok ? "card ok" : "card error";
    status.replaceChildren(el("p", {}, text), el("ul", {}, Object.entries(problems || {}).map(([k, v]) => el("li", {}, `${k}：${v}`))));
  }
  async function call(url, method, body) {
    const resp = await fetch(url, {method, headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                                   body: body ? JSON.stringify(body) : undefined});
    return [resp, await resp.json()];
  }
  async function save() {
    const [resp, body] = await call(`/api/v1/forms/${D.form_id}`, "PUT", definition());
    if (!resp.ok) { show(false, body.error.message, body.error.fields); return false; }
    const problems = body.problem_messages || {};
    show(!Object.keys(problems).length, Object.keys(problems).length ? L.saved_with_problems : L.saved, problems);
    return !Object.keys(problems).length;
  }
  root.querySelector("#save").addEventListener("click", save);
  root.querySelector("#publish").addEventListener("click", async () => {
    if (!(await save())) return;
    const [resp, body] = await call(`/api/v1/forms/${D.form_id}/publish`, "POST");
    if (!resp.ok) { show(false, body.error.message, body.error.fields); return; }
    show(true, `${L.published} v${body.published_version}`);
    root.querySelector("#after-publish").hidden = false;
  });
  draw();
})();
