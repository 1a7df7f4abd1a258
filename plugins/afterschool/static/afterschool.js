/* After-school pages: a family's ordered choice on a phone, ratings, the teacher's roll, the school's
   window and lottery page, and the district's supervision charts. Everything goes through /afterschool/api
   (and the district's desensitised /api/v1/district/figures). */
(function () {
  "use strict";
  const W = JSON.parse((document.getElementById("afterschool-words") || {}).textContent || "{}");
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  const toast = (text, kind) => (window.jizuo && window.jizuo.toast ? window.jizuo.toast(text, kind) : null);
  async function api(url, method, body) {
    const resp = await fetch(url, {method: method || "GET", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json"},
      body: body ? JSON.stringify(body) : undefined});
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) { const e = new Error((data.error && data.error.message) || resp.status); e.data = data; throw e; }
    return data;
  }
  function errorText(err) {
    const f = err.data && err.data.error && err.data.error.fields;
    return f && Object.keys(f).length ? Object.values(f).join("；") : err.message;
  }

  // ---- a family chooses, in order of preference -------------------------------------------------------
  document.querySelectorAll(".as-window[data-open='1']").forEach((box) => {
    const order = [];
    const max = Number(box.dataset.max);
    const student = Number(box.closest(".as-kid").dataset.student);
    const msg = box.querySelector(".as-msg");
    function paint() {
      box.querySelectorAll(".as-pick").forEach((b) => {
        const i = order.indexOf(Number(b.dataset.course));
        b.setAttribute("aria-pressed", i >= 0 ? "true" : "false");
        b.querySelector(".as-order").textContent = i >= 0 ? String(i + 1) : "";
        b.closest(".as-course").classList.toggle("picked", i >= 0);
      });
    }
    box.querySelectorAll(".as-pick").forEach((b) => b.addEventListener("click", () => {
      const id = Number(b.dataset.course), i = order.indexOf(id);
      if (i >= 0) order.splice(i, 1); else if (order.length < max) order.push(id);
      paint();
    }));
    box.querySelector(".as-submit").addEventListener("click", async () => {
      if (!order.length) { msg.textContent = W.pick_first; return; }
      try {
        const out = await api(`/afterschool/api/windows/${box.dataset.window}/choices`, "POST", {student_id: student, courses: order});
        msg.textContent = out.items.map((o) => W.status[o.outcome] + (o.reason ? "（" + W.reason[o.reason] + "）" : "")).join("；");
        toast(W.saved);
        setTimeout(() => window.location.reload(), 700);
      } catch (err) { msg.textContent = errorText(err); toast(errorText(err), "error"); }
    });
  });
  document.querySelectorAll("form.as-rate").forEach((form) => form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const student = Number(form.closest(".as-kid").dataset.student);
    try {
      await api(`/afterschool/api/courses/${form.dataset.course}/ratings`, "POST", {student_id: student,
        stars: Number(form.stars.value), comment: form.comment.value || null});
      toast(W.rated);
    } catch (err) { toast(errorText(err), "error"); }
  }));

  // ---- the school admin's forms: a course, a window (JSON to the API, the field's reason beside the button) ----
  document.querySelectorAll("form.as-form").forEach((form) => form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = {}, msg = form.querySelector(".as-msg");
    form.querySelectorAll("input[name], select[name], textarea[name]").forEach((el) => {
      if (el.hasAttribute("data-bool")) { body[el.name] = el.checked; return; }
      if (el.value === "" && el.hasAttribute("data-optional")) return;
      if (el.hasAttribute("data-int")) { body[el.name] = Number(el.value); return; }
      if (el.hasAttribute("data-time")) { body[el.name] = el.value ? el.value + ":00+08:00" : ""; return; }
      body[el.name] = el.value;
    });
    const checked = (sel) => [...form.querySelectorAll(sel + " input:checked")].map((i) => i.value);
    if (form.querySelector("[data-slots]")) {
      body.slots = [...form.querySelectorAll("[data-slots] input:checked")].map((i) => i.dataset.slot.split(",").map(Number));
    }
    if (form.querySelector("[data-grades]")) body.grades = checked("[data-grades]").map(Number);
    if (form.querySelector("[data-courses]")) { const c = checked("[data-courses]").map(Number); if (c.length) body.course_ids = c; }
    try {
      await api(form.dataset.post, "POST", body);
      toast(W.saved);
      setTimeout(() => window.location.reload(), 500);
    } catch (err) {
      const f = (err.data && err.data.error && err.data.error.fields) || {};
      const named = Object.keys(f).map((k) => {
        const el = form.querySelector(`[name="${k}"]`) || form.querySelector(`[data-${k}]`);
        const label = el && (el.closest("label") || el.closest("fieldset"));
        const head = label ? (label.querySelector("legend") || label).textContent.trim().split(/\s/)[0] : k;
        return `${head}：${f[k]}`;
      });
      msg.textContent = named.length ? named.join("；") : errorText(err);
    }
  }));

  // ---- the roll -----------------------------------------------------------------------------------------
  const roll = document.querySelector("form.as-roll");
  if (roll) {
    const M = JSON.parse(document.getElementById("afterschool-marks").textContent);
    const list = roll.querySelector(".as-roll-list"), msg = roll.querySelector(".as-msg");
    const marks = {};
    async function load() {
      const data = await api(`${roll.dataset.src}?day=${roll.day.value}`);
      list.innerHTML = data.items.map((k) => {
        marks[k.id] = k.status || (k.leave ? "leave" : "present");
        return `<li class="card" data-kid="${k.id}"><b>${esc(k.name)}</b> <span class="hint">${esc(k.student_no)}</span>` +
          (k.leave ? ` <span class="badge as-leave">${esc(M.has_leave)}</span>` : "") +
          `<span class="as-marks" role="group">` + ["present", "late", "leave", "absent"].map((s) =>
            `<button type="button" class="small mark-${s}" data-mark="${s}" aria-pressed="${marks[k.id] === s}">${esc(M[s])}</button>`).join("") +
          `</span></li>`;
      }).join("");
    }
    list.addEventListener("click", (ev) => {
      const b = ev.target.closest("button[data-mark]");
      if (!b) return;
      const li = b.closest("li");
      marks[li.dataset.kid] = b.dataset.mark;
      li.querySelectorAll("button[data-mark]").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
    });
    roll.day.addEventListener("change", load);
    roll.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const out = await api(roll.dataset.src, "POST", {day: roll.day.value, marks});
        msg.textContent = W.saved + (out.told ? " · " + W.told.replace("{n}", out.told) : "");
        toast(msg.textContent);
      } catch (err) { msg.textContent = errorText(err); }
    });
    load();
  }

  // ---- a window: courses, the lottery and its re-run ---------------------------------------------------------
  const table = document.querySelector("table.as-window-courses");
  if (table) {
    api(table.dataset.src).then((w) => {
      table.querySelector("tbody").innerHTML = w.courses.map((c) => `<tr><td>${esc(c.title)}</td><td>${c.enrolled} / ${c.capacity}</td>` +
        `<td>${c.choices.applied || 0}</td><td>${c.choices.enrolled || 0}</td><td>${c.choices.waiting || 0}</td></tr>`).join("");
    });
  }
  const draw = document.querySelector("form.as-draw");
  if (draw) draw.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const msg = draw.querySelector(".as-msg");
    try {
      const out = await api(`/afterschool/api/windows/${draw.dataset.window}/lottery`, "POST",
        {seed: draw.seed.value || undefined, close_now: draw.close_now.checked});
      msg.textContent = W.drawn + " " + out.seed;
      setTimeout(() => window.location.reload(), 600);
    } catch (err) { msg.textContent = errorText(err); }
  });
  document.querySelectorAll(".as-rerun").forEach((b) => b.addEventListener("click", async () => {
    const msg = b.parentElement.querySelector(".as-msg");
    try {
      const out = await api(`/afterschool/api/lotteries/${b.dataset.lottery}/rerun`);
      msg.textContent = out.same ? W.same : W.differs;
      msg.className = "as-msg " + (out.same ? "as-same" : "as-differs");
    } catch (err) { msg.textContent = errorText(err); }
  }));

  // ---- the district: every school side by side, a term at a time -------------------------------------------
  const board = document.getElementById("as-district");
  if (board) {
    const S = JSON.parse(document.getElementById("afterschool-schools").textContent);
    const names = {};
    S.schools.forEach((s) => { names[s.id] = W.lang === "en" && s.name_en ? s.name_en : s.name; });
    const termSel = document.getElementById("as-term");
    const label = (fig, g) => fig.endsWith("categories") || fig.endsWith("ratings") ? S.words.cat[g.category] || g.category
      : fig.endsWith("attendance") ? S.words.mark[g.status] || g.status
      : fig.endsWith("participation") ? (g.enrolled ? S.words.yes : S.words.no) : g.venue;
    const FIGS = [["afterschool.categories", "categories", "count", S.words.students],
      ["afterschool.categories", "hours", "value", S.words.hours_unit], ["afterschool.participation", "participation", "value", S.words.share],
      ["afterschool.venues", "venues", "value", S.words.use], ["afterschool.attendance", "attendance", "value", S.words.share],
      ["afterschool.ratings", "ratings", "value", S.words.stars]];
    let data = null;
    function render() {
      const term = termSel.value;
      board.innerHTML = "";
      FIGS.forEach(([key, word, field, unit], n) => {
        const fig = data.items.find((f) => f.key === key);
        if (!fig) return;
        const groups = [];
        fig.schools.forEach((s) => s.cells.forEach((c) => {
          if (c.group.term !== term) return;
          const g = label(key, c.group);
          if (key.endsWith("participation") && !c.group.enrolled) return;
          if (!groups.includes(g)) groups.push(g);
        }));
        const schools = fig.schools.map((s) => s.school_id);
        const cell = (s, g) => {
          const c = fig.schools.find((x) => x.school_id === s).cells.find((c) => c.group.term === term && label(key, c.group) === g
            && !(key.endsWith("participation") && !c.group.enrolled));
          return c ? (c.suppressed ? null : c[field]) : null;
        };
        const sec = document.createElement("section");
        sec.className = "card as-fig";
        sec.dataset.figure = key + ":" + field;
        const title = esc(S.words[word] || word) + ` <small>(${esc(unit)})</small>`;
        sec.innerHTML = `<h2>${title}</h2><div class="as-chart" id="as-chart-${n}"></div>` +
          `<table class="grid keep-table"><thead><tr><th>${esc(S.words.school)}</th>${groups.map((g) => `<th>${esc(g)}</th>`).join("")}</tr></thead><tbody>` +
          schools.map((s) => `<tr><td>${esc(names[s] || s)}</td>${groups.map((g) => { const v = cell(s, g); return `<td>${v == null ? "—" : v}</td>`; }).join("")}</tr>`).join("") +
          `</tbody></table>`;
        board.appendChild(sec);
        if (window.echarts) {
          const chart = window.echarts.init(sec.querySelector(".as-chart"));
          chart.setOption({tooltip: {trigger: "axis"}, legend: {top: 0}, grid: {left: 40, right: 10, top: 30, bottom: 30, containLabel: true},
            xAxis: {type: "category", data: groups}, yAxis: {type: "value", name: unit},
            series: schools.map((s) => ({name: names[s] || String(s), type: "bar", data: groups.map((g) => cell(s, g))}))});
          window.addEventListener("resize", () => chart.resize());
        }
      });
    }
    api(board.dataset.src).then((d) => {
      data = d;
      const terms = new Set();
      d.items.forEach((f) => f.schools.forEach((s) => s.cells.forEach((c) => c.group.term && terms.add(c.group.term))));
      const all = [...terms].sort().reverse();
      termSel.innerHTML = all.map((t) => `<option${t === termSel.dataset.term ? " selected" : ""}>${esc(t)}</option>`).join("");
      termSel.addEventListener("change", render);
      render();
      board.dataset.ready = "1";
    }).catch((err) => { board.textContent = errorText(err); board.dataset.ready = "error"; });
  }
})();
