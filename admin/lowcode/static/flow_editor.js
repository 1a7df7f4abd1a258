// The editor's approval-flow section (审批流程), for a teacher: steps in order, each with an approver (the
// student's homeroom teacher, the grade head of the student's grade, a role of the school, a named person),
// 或签/会签 with one line saying what it means, an optional condition (the rules' controls), an optional
// deadline in school days with whom to pass it to; up/down/remove; CC roles; and "试一试": sample values →
// the path the server computes with the engine's own path() (foundation/lowcode/flow.py). A condition the editor
// cannot show (e.g. "in" a list) is kept exactly as it is. Used by editor.js, which owns the page.
window.jizuoFlowEditor = (ctx) => {
  "use strict";
  const {root, D, el, say, touched, fields, idOf, nameOf, ops} = ctx;
  const L = D.flow_labels;
  const LE = D.labels;
  const $ = (sel) => root.querySelector(sel);
  const copy = (x) => JSON.parse(JSON.stringify(x));
  const src = (D.app || {}).flow || {};
  const steps = copy(src.steps || []);
  let cc = [...(src.cc || [])];
  let notify = src.notify_submitter !== false;
  const sample = {};
  const option = (value, text, selected) => el("option", {value, selected: selected || false}, text);
  const shown = (w) => !w || (ops.includes(w.op) && (w.value === undefined || ["string", "number", "boolean"].includes(typeof w.value)));
  const choiceOf = (f) => (f && (f.kind === "select" || f.kind === "radio") ? f.options.filter((o) => o.value) : null);
  const fieldOf = (id) => fields().find((f) => idOf(f) === id);
  const changed = () => { touched(); draw(); };

  function stepName(s, i) {
    const title = s.title || {};
    const words = (D.lang === "en" ? title.en || title.zh : title.zh || title.en) || approverWords(s.approver);
    return `${say(L.flow_step_n, {n: i + 1})} ${words}`;
  }
  function approverWords(a) {
    if (!a) return "";
    if (a.relative) return L[`flow_relative_${a.relative}`];
    if (a.role !== undefined) return (D.flow_roles.find(([k]) => k === a.role) || [a.role, a.role])[1];
    return (D.flow_staff.find(([id]) => id === a.person) || [0, say(L.flow_person_n, {n: a.person})])[1];
  }

  // who approves (part "approver") or whom an overdue step passes to (part "escalate", may be nobody)
  function approverControls(step, part) {
    const escalate = part === "escalate";
    const a = escalate ? (step.deadline || {}).escalate_to : step.approver;
    const put = (v) => {
      if (!escalate) step.approver = v;
      else if (v) step.deadline.escalate_to = v;
      else delete step.deadline.escalate_to;
      changed();
    };
    const kind = !a ? "" : a.relative ? `relative:${a.relative}` : a.role !== undefined ? "role" : "person";
    const kindSel = el("select", {class: `s-${part}-kind`, "aria-label": escalate ? L.flow_escalate : L.flow_approver,
      onchange: (e) => {
        const v = e.target.value;
        if (!v) put(null);
        else if (v.startsWith("relative:")) put({relative: v.slice(9)});
        else if (v === "role") put({role: (D.flow_roles[0] || [""])[0]});
        else put({person: (D.flow_staff[0] || [0])[0]});
      }},
      escalate ? option("", L.flow_no_escalate, !a) : null,
      option("relative:homeroom", L.flow_relative_homeroom, kind === "relative:homeroom"),
      option("relative:grade_head", L.flow_relative_grade_head, kind === "relative:grade_head"),
      option("role", L.flow_kind_role, kind === "role"), option("person", L.flow_kind_person, kind === "person"));
    let which = null;
    if (kind === "role") {
      const roles = D.flow_roles.some(([k]) => k === a.role) ? D.flow_roles : [[a.role, a.role], ...D.flow_roles];
      which = el("select", {class: `s-${part}-role`, "aria-label": L.flow_kind_role,
                            onchange: (e) => { a.role = e.target.value; changed(); }},
        roles.map(([k, words]) => option(k, words, k === a.role)));
    } else if (kind === "person") {
      const staff = D.flow_staff.some(([id]) => id === a.person) ? D.flow_staff
        : [[a.person, say(L.flow_person_n, {n: a.person})], ...D.flow_staff];
      which = el("select", {class: `s-${part}-person`, "aria-label": L.flow_kind_person,
                            onchange: (e) => { a.person = Number(e.target.value); changed(); }},
        staff.map(([id, words]) => option(String(id), words, id === a.person)));
    }
    return [kindSel, which];
  }

  function whenControls(step) {
    const w = step.when;
    if (!shown(w)) return el("p", {class: "note"}, L.flow_when_kept, " ", el("code", {}, JSON.stringify(w)));
    const on = el("label", {class: "check"}, el("input", {type: "checkbox", class: "s-when-on", checked: !!w,
      onchange: (e) => { if (e.target.checked) step.when = {field: "", op: "gt", value: ""}; else delete step.when; changed(); }}),
      " ", L.flow_when_on);
    if (!w) return el("div", {class: "row"}, on);
    const f = fieldOf(w.field);
    const fieldSel = el("select", {class: "s-when-field", "aria-label": LE.rule_field,
                                   onchange: (e) => { w.field = e.target.value; changed(); }},
      option("", "—"), fields().filter((x) => x.kind !== "advanced").map((x) => option(idOf(x), nameOf(x), idOf(x) === w.field)));
    const opSel = el("select", {class: "s-when-op", "aria-label": LE.rule_op, onchange: (e) => {
      w.op = e.target.value;
      if (w.op === "empty" || w.op === "not_empty") delete w.value;
      changed();
    }}, ops.map((o) => option(o, LE.ops[o], o === w.op)));
    let value = null;
    const choices = choiceOf(f);
    if (w.op === "empty" || w.op === "not_empty") {
      value = null;
    } else if (f && f.kind === "boolean") {
      value = el("select", {class: "s-when-value", "aria-label": LE.rule_value, onchange: (e) => { w.value = e.target.value === "true"; touched(); }},
        option("true", L.flow_sample_yes, w.value === true), option("false", L.flow_sample_no, w.value === false));
      if (typeof w.value !== "boolean") w.value = true;
    } else if (choices && choices.length) {
      value = el("select", {class: "s-when-value", "aria-label": LE.rule_value, onchange: (e) => { w.value = e.target.value; touched(); }},
        choices.map((o) => option(o.value, (D.lang === "en" ? o.label.en || o.label.zh : o.label.zh || o.label.en), o.value === w.value)));
      if (!choices.some((o) => o.value === w.value)) w.value = choices[0].value;
    } else {
      value = el("input", {class: "s-when-value", "aria-label": LE.rule_value, value: w.value ?? "",
        type: f && f.kind === "date" ? "date" : "text", oninput: (e) => {
          const v = e.target.value.trim();
          w.value = v !== "" && f && (f.kind === "integer" || f.kind === "number") && !isNaN(Number(v)) ? Number(v) : v;
          touched();
        }});
    }
    return el("div", {class: "row"}, on, LE.when, " ", fieldSel, opSel, value);
  }

  function deadlineControls(step) {
    const d = step.deadline;
    const on = el("label", {class: "check"}, el("input", {type: "checkbox", class: "s-deadline-on", checked: !!d,
      onchange: (e) => { if (e.target.checked) step.deadline = {school_days: 2}; else delete step.deadline; changed(); }}),
      " ", L.flow_deadline_on);
    if (!d) return el("div", {class: "row"}, on);
    const days = el("label", {}, el("input", {type: "number", class: "s-days", min: 1, max: 30, value: d.school_days,
      oninput: (e) => { d.school_days = Number(e.target.value) || 1; touched(); }}), " ", L.flow_school_days);
    return el("div", {class: "row"}, on, days, el("label", {}, L.flow_escalate, " ", ...approverControls(step, "escalate")));
  }

  function stepCard(s, i) {
    const name = stepName(s, i);
    const mode = s.mode || "any";
    const move = (d) => { const j = i + d; [steps[i], steps[j]] = [steps[j], steps[i]]; changed(); };
    const title = (lang, label) => el("label", {}, label, " ", el("input", {class: `s-title-${lang}`, maxlength: 200,
      value: (s.title || {})[lang] || "", lang, oninput: (e) => {
        s.title = {...(s.title || {}), [lang]: e.target.value};
        card.querySelector(".step-name").textContent = stepName(s, i);
        touched();
      }}));
    const radios = ["any", "all"].map((m) => el("label", {class: "check"}, el("input", {type: "radio", name: `mode-${i}`,
      class: `s-mode-${m}`, value: m, checked: mode === m, onchange: () => { s.mode = m; changed(); }}), " ", L[`flow_mode_${m}`]));
    const card = el("li", {class: "card flow-step", "data-key": s.key},
      el("div", {class: "field-head"}, el("strong", {class: "step-name"}, name), el("span", {class: "tools"},
        el("button", {type: "button", class: "small secondary", "aria-label": `${LE.up}：${name}`, title: LE.up,
                      disabled: i === 0, onclick: () => move(-1)}, "↑"),
        el("button", {type: "button", class: "small secondary", "aria-label": `${LE.down}：${name}`, title: LE.down,
                      disabled: i === steps.length - 1, onclick: () => move(1)}, "↓"),
        el("button", {type: "button", class: "small danger", "aria-label": `${LE.remove}：${name}`,
                      onclick: () => { steps.splice(i, 1); changed(); }}, LE.remove))),
      el("div", {class: "pair"}, title("zh", L.flow_title_zh), title("en", L.flow_title_en)),
      el("div", {class: "row"}, el("span", {}, L.flow_approver), ...approverControls(s, "approver")),
      el("fieldset", {class: "row mode"}, el("legend", {}, L.flow_mode), ...radios,
        el("span", {class: "note s-mode-hint"}, L[`flow_mode_${mode}_hint`])),
      whenControls(s), deadlineControls(s),
      el("p", {class: "field-problem", role: "alert", hidden: true}));
    return card;
  }

  function sampleInputs() {
    return fields().filter((f) => !["advanced", "student", "class", "textarea"].includes(f.kind)).map((f) => {
      const id = idOf(f);
      const put = (v) => { if (v === "" || v === null) delete sample[id]; else sample[id] = v; };
      const choices = choiceOf(f);
      let input;
      if (f.kind === "boolean") {
        input = el("select", {class: "sample", "data-field": id, onchange: (e) => put(e.target.value === "" ? "" : e.target.value === "true")},
          option("", "—"), option("true", L.flow_sample_yes, sample[id] === true), option("false", L.flow_sample_no, sample[id] === false));
      } else if (choices) {
        input = el("select", {class: "sample", "data-field": id, onchange: (e) => put(e.target.value)}, option("", "—"),
          choices.map((o) => option(o.value, D.lang === "en" ? o.label.en || o.label.zh : o.label.zh || o.label.en, sample[id] === o.value)));
      } else {
        const number = f.kind === "integer" || f.kind === "number";
        input = el("input", {class: "sample", "data-field": id, type: number ? "number" : f.kind === "date" ? "date" : "text",
          value: sample[id] ?? "", oninput: (e) => put(number && e.target.value !== "" ? Number(e.target.value) : e.target.value)});
      }
      return el("label", {}, nameOf(f), " ", input);
    });
  }

  async function tryPath() {
    const out = $("#path-result");
    const flow = parts({}).flow;
    if (!flow) { out.replaceChildren(); return; }
    const resp = await fetch(`/forms/${D.form_id}/edit/path`, {method: "POST", body: JSON.stringify({flow, data: sample}),
      headers: {"Content-Type": "application/json", "X-CSRFToken": ctx.token}});
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) { out.replaceChildren(el("li", {class: "error"}, (body.error || {}).message || L.flow_try_failed)); return; }
    out.replaceChildren(...body.path.map((p, i) => el("li", {class: p.taken ? "path-run" : "path-skip"},
      `${stepName(steps[i], i)} — ${p.taken ? `${approverWords(steps[i].approver)} ${L.flow_runs}` : L.flow_skipped}`)),
      el("li", {class: "path-end"}, L.flow_outcome));
  }

  function draw() {
    $("#flow-steps").replaceChildren(...steps.map(stepCard));
    $("#flow-cc").replaceChildren(el("legend", {}, root.querySelector("#flow-cc legend")?.textContent || ""),
      ...D.flow_roles.map(([k, words]) => el("label", {class: "chip"}, el("input", {type: "checkbox", name: "cc", value: k,
        checked: cc.includes(k), onchange: (e) => { cc = e.target.checked ? [...cc, k] : cc.filter((r) => r !== k); touched(); }}),
        " ", words)));
    $("#sample-fields").replaceChildren(...sampleInputs());
    const approval = $("#approval-by");
    approval.disabled = steps.length > 0;
    $("#approval-in-flow").hidden = !steps.length;
    $("#flow-try").hidden = !steps.length;
  }

  // the flow as the app document says it (schemas/lowcode-app.schema.json "flow"), into the app parts
  function parts(out) {
    if (!steps.length) { delete out.flow; return out; }
    out.flow = {steps: steps.map((s) => {
      const step = copy(s);
      const title = Object.fromEntries(Object.entries(step.title || {}).filter(([, v]) => v && v.trim()));
      if (Object.keys(title).length) step.title = title; else delete step.title;
      return step;
    }), cc: [...cc], notify_submitter: notify};
    delete out.approval;
    return out;
  }
  function renamed(map) {
    steps.forEach((s) => { if (s.when && map[s.when.field]) s.when.field = map[s.when.field]; });
  }
  function showProblems(entries) {
    entries.forEach(([path, message]) => {
      const m = /^app\/flow\/steps\/(\d+)/.exec(path);
      const card = m && root.querySelectorAll("#flow-steps > li")[Number(m[1])];
      if (!card) return;
      card.classList.add("has-problem");
      const p = card.querySelector(".field-problem");
      p.textContent = p.textContent ? `${p.textContent}；${message}` : message;
      p.hidden = false;
    });
  }

  $("#add-step").addEventListener("click", () => {
    const taken = new Set(steps.map((s) => s.key));
    let n = steps.length + 1;
    while (taken.has(`step_${n}`)) n += 1;
    const approval = $("#approval-by");
    // an app's single approver becomes the flow's first step
    const approver = !steps.length && approval.value ? {role: approval.value} : {relative: "homeroom"};
    approval.value = "";
    steps.push({key: `step_${n}`, approver, mode: "any"});
    changed();
    const cards = root.querySelectorAll("#flow-steps > li");
    cards[cards.length - 1].querySelector(".s-title-zh").focus();
  });
  const notifyBox = $("#flow-notify");
  notifyBox.checked = notify;
  notifyBox.addEventListener("change", (e) => { notify = e.target.checked; touched(); });
  $("#try-path").addEventListener("click", tryPath);

  return {draw, parts, renamed, showProblems};
};
