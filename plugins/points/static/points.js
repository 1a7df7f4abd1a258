/* Points pages: the live class board (polls its JSON every few seconds), the archive, the entry form,
   the appeals queue and the rulebook editor. Everything is read from and written to /points/api. */
(function () {
  "use strict";
  const W = JSON.parse((document.getElementById("points-words") || {}).textContent || "{}");
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  const signed = (n) => (n > 0 ? "+" : "") + n;
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
  function spark(values) {
    if (!values || values.length < 2) return "";
    const lo = Math.min(...values), hi = Math.max(...values), span = Math.max(hi - lo, 1);
    const pts = values.map((v, i) => `${(i * 118 / (values.length - 1) + 1).toFixed(1)},${(26 - (v - lo) * 24 / span).toFixed(1)}`);
    const falling = values[values.length - 1] < values[0] ? " falling" : "";
    return `<svg class="spark${falling}" viewBox="0 0 120 28" role="img" aria-label="${values.join("→")}"><polyline points="${pts.join(" ")}"/></svg>`;
  }

  function trendChart(values) {
    // the score at the end of each of the last weeks: a line with the weekly values labelled
    const w = 640, h = 140, pad = 28, lo = Math.min(...values) - 5, hi = Math.max(...values) + 5;
    const x = (i) => pad + i * (w - 2 * pad) / (values.length - 1), y = (v) => h - pad - (v - lo) * (h - 2 * pad) / (hi - lo);
    const pts = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    const labels = values.map((v, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3"/>` +
      `<text x="${x(i).toFixed(1)}" y="${(y(v) - 8).toFixed(1)}" text-anchor="middle">${v}</text>` +
      `<text x="${x(i).toFixed(1)}" y="${h - 6}" text-anchor="middle" class="wk">${i - values.length + 1 || W.now}</text>`).join("");
    return `<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${values.join("→")}"><polyline points="${pts}"/>${labels}</svg>`;
  }

  // ---- class board ------------------------------------------------------------------------------
  const board = document.getElementById("board");
  if (board) {
    let last = {};
    const draw = (data) => {
      const rows = data.items.map((r) => {
        const changed = last[r.student_id] !== undefined && last[r.student_id] !== r.score;
        const cls = r.week_change < 0 ? "down" : r.week_change > 0 ? "up" : "";
        return `<tr data-student="${r.student_id}"${changed ? ' class="flash"' : ""}><td class="num rank">${r.rank}</td>` +
          `<td><a href="${board.dataset.archive}${r.student_id}">${esc(r.name)}</a></td><td>${esc(r.student_no)}</td>` +
          `<td class="num score">${r.score}</td><td class="num ${cls}">${signed(r.week_change)}</td>` +
          `<td class="num">${r.grade_rank == null ? "—" : r.grade_rank}</td><td>${spark(r.trend)}</td></tr>`;
      });
      board.tBodies[0].innerHTML = rows.join("");
      last = Object.fromEntries(data.items.map((r) => [r.student_id, r.score]));
      document.getElementById("board-at").textContent = new Date(data.at).toLocaleTimeString();
      document.getElementById("board-avg").textContent = data.average == null ? "—" : data.average;
      const hist = document.getElementById("board-hist");
      if (hist && data.items.length) {
        const edges = [0, 900, 930, 950, 970, 990, 1000, 1010, 1030, 99999], counts = new Array(edges.length - 1).fill(0);
        data.items.forEach((r) => { for (let i = 0; i < counts.length; i++) if (r.score >= edges[i] && r.score < edges[i + 1]) counts[i]++; });
        const top = Math.max(...counts, 1);
        hist.innerHTML = counts.map((c, i) => `<div title="${c}"><span>${i ? edges[i] : "<900"}</span></div>`).join("");
        // heights through element.style: the page's CSP refuses style attributes in markup
        Array.from(hist.children).forEach((bar, i) => { bar.style.height = (counts[i] * 100 / top).toFixed(0) + "%"; });
      }
    };
    const tick = () => api(board.dataset.src).then(draw).catch(() => {});
    tick();
    setInterval(tick, 3000);
  }

  // the class picker over the board: straight to the chosen class's board
  document.querySelectorAll("form.points-pick[data-base]").forEach((pick) => {
    const go = () => { location.href = pick.dataset.base + pick.elements.c.value; };
    pick.addEventListener("submit", (e) => { e.preventDefault(); go(); });
    pick.elements.c.addEventListener("change", go);
  });

  // ---- archive ----------------------------------------------------------------------------------
  const arch = document.getElementById("archive");
  if (arch) {
    const load = () => api(arch.dataset.src).then((d) => {
      document.getElementById("a-score").textContent = d.score;
      const band = document.getElementById("a-band");
      band.textContent = d.band ? W.bands[d.band] : "—";
      const cr = document.getElementById("a-class-rank"), sr = document.getElementById("a-school-rank");
      if (cr) cr.textContent = d.class_rank == null ? "—" : d.class_rank;
      if (sr) sr.textContent = d.school_rank == null ? "—" : d.school_rank;
      const dims = document.getElementById("a-dims");
      if (dims && d.dimensions) {
        const top = Math.max(1, ...Object.values(d.dimensions).map((x) => Math.abs(x.net)));
        dims.innerHTML = Object.entries(d.dimensions).map(([k, x]) => `<div class="bar"><span class="label">${W.dims[k]} ${signed(x.net)}</span>` +
          `<span class="fill ${x.net < 0 ? "minus" : "plus"} w-${(Math.abs(x.net) * 100 / top).toFixed(0)}"></span></div>`).join("");
      }
      const tr = document.getElementById("a-trend");
      if (tr && d.trend && d.trend.length > 1) tr.innerHTML = trendChart(d.trend);
      const body = document.querySelector("#a-entries tbody");
      body.innerHTML = d.entries.map((e) => {
        let act = "";
        if (arch.dataset.reverse === "1" && e.reversed_by == null && e.reverses_id == null) act = `<button class="small" data-reverse="${e.id}">${W.reverse}</button>`;
        if (arch.dataset.appeal === "1" && e.reversed_by == null && e.reverses_id == null) {
          act = e.appeal === "open" ? `✓ ${W.appealed}` : `<button class="small" data-appeal="${e.id}">${W.appeal}</button>`;
        }
        if (e.reversed_by != null) act = W.reversed;
        return `<tr data-entry="${e.id}"${e.reversed_by != null ? ' class="reversed"' : ""}><td>${esc(jizuo.localTime(e.occurred_at))}</td>` +
          `<td>${W.dims[e.dimension] || ""} · ${esc(e.rule_title ? e.rule_title[W.lang] || e.rule_title.zh : e.rule_code)}</td><td class="num ${e.points < 0 ? "down" : "up"}">${signed(e.points)}</td>` +
          `<td>${esc(e.reason)}</td><td>${W.sources[e.source] || esc(e.source)}</td><td>${esc(e.recorded_by)}</td><td>v${e.rulebook_version}</td><td>${act}</td></tr>`;
      }).join("");
    });
    arch.addEventListener("click", (ev) => {
      const rev = ev.target.dataset.reverse, app = ev.target.dataset.appeal;
      if (!rev && !app) return;
      const reason = window.prompt(W.reason_prompt);
      if (!reason) return;
      const call = rev ? api(`${arch.dataset.reverseUrl}${rev}/reverse`, "POST", {reason})
        : api(arch.dataset.appealUrl, "POST", {entry_id: Number(app), reason});
      call.then(() => { if (app) ev.target.replaceWith(document.createTextNode("✓")); return load(); })
        .catch((err) => window.alert(errorText(err)));
    });
    load();
    setInterval(load, 5000);
  }

  // ---- entry form: one rule item for one student or several (picker, class list, whole class) -------------
  const form = document.getElementById("entry-form");
  if (form) document.addEventListener("DOMContentLoaded", () => entryForm(form));  // after picker.js has run

  function entryForm(form) {
    const B = JSON.parse((document.getElementById("batch-words") || {}).textContent || "{}");
    const fmt = (s, kw) => String(s || "").replace(/\{(\w+)\}/g, (m, k) => (k in kw ? kw[k] : m));
    const field = form.student_ids;
    // the picker (admin/static/picker.js) when the front end offers one, else the plain <select multiple>
    const pick = field.jizuoPicker || (window.jizuo && window.jizuo.picker && window.jizuo.picker(field)) || {
      selected: () => [...field.selectedOptions].map((o) => ({id: Number(o.value), name: o.textContent})),
      add: (items) => { [].concat(items).forEach((it) => { let o = [...field.options].find((x) => Number(x.value) === it.id);
        if (!o) { o = new Option(it.name, it.id); field.add(o); } o.selected = true; }); field.dispatchEvent(new Event("change")); },
      remove: (ids) => { [].concat(ids).map(Number).forEach((id) => { const o = [...field.options].find((x) => Number(x.value) === id);
        if (o) o.selected = false; }); field.dispatchEvent(new Event("change")); },
      clear: () => { [...field.options].forEach((o) => { o.selected = false; }); field.dispatchEvent(new Event("change")); },
    };
    const rule = () => form.rule_code.selectedOptions[0];
    const kindOf = () => rule() && rule().dataset.kind;
    const show = () => {
      form.querySelectorAll(".for-scored, .for-by_level").forEach((el) => { el.hidden = !el.classList.contains("for-" + kindOf()); });
      form.reason.required = rule() && Number(rule().dataset.points) < 0;  // families read why points were taken
    };
    form.rule_code.addEventListener("change", show);
    show();

    // the class list: a box per student, "whole class", current scores (refreshed after each save)
    const list = document.getElementById("entry-class-list"), klass = document.getElementById("entry-class");
    const whole = document.getElementById("entry-whole-class");
    let roster = [];
    const chosenIds = () => new Set(pick.selected().map((c) => c.id));
    function mark() {
      const ids = chosenIds();
      if (list) list.querySelectorAll("input[type=checkbox]").forEach((box) => { box.checked = ids.has(Number(box.value)); });
      if (whole) {
        const n = roster.filter((r) => ids.has(r.id)).length;
        whole.checked = roster.length > 0 && n === roster.length;
        whole.indeterminate = n > 0 && n < roster.length;
      }
      const count = ids.size;
      document.getElementById("entry-submit").textContent = count > 1 ? fmt(B.submit_n, {n: count}) : B.submit;
    }
    function loadClass(flashIds) {
      if (!list || !klass) return Promise.resolve();
      const className = klass.selectedOptions[0] ? klass.selectedOptions[0].textContent : "";
      return api(form.dataset.board.replace("/0/", `/${klass.value}/`)).then((d) => {
        roster = d.items.map((r) => ({id: r.student_id, name: r.name, student_no: r.student_no, class_name: className, score: r.score}))
          .sort((a, b) => String(a.student_no).localeCompare(String(b.student_no)));
        list.innerHTML = roster.length ? roster.map((r) => `<li${flashIds && flashIds.has(r.id) ? ' class="flash"' : ""}><label>` +
          `<input type="checkbox" value="${r.id}"> <span><span class="name">${esc(r.name)}</span><small>${esc(r.student_no)} · ${r.score}</small></span></label></li>`).join("")
          : `<li class="hint">${esc(B.empty)}</li>`;
        document.getElementById("entry-whole-label").textContent = fmt(B.whole_n, {n: roster.length});
        mark();
      }).catch(() => {});
    }
    if (list) {
      list.addEventListener("change", (ev) => {
        const r = roster.find((x) => x.id === Number(ev.target.value));
        if (r) { if (ev.target.checked) pick.add(r); else pick.remove(r.id); }
      });
      whole.addEventListener("change", () => { if (whole.checked) pick.add(roster); else pick.remove(roster.map((r) => r.id)); });
      klass.addEventListener("change", () => loadClass());
      loadClass();
    }
    field.addEventListener("change", mark);
    mark();

    // one confirmation for several students, then one request
    const dialog = document.getElementById("entry-confirm");
    function confirmMany(kids, label) {
      if (kids.length < 2 || !dialog || !dialog.showModal) return Promise.resolve(true);
      document.getElementById("entry-confirm-text").textContent = fmt(B.confirm, {n: kids.length, rule: label});
      const names = kids.slice(0, 12).map((k) => k.name).join("、");
      document.getElementById("entry-confirm-names").textContent = kids.length > 12 ? `${names} ${fmt(B.and_more, {n: kids.length})}` : names;
      return new Promise((resolve) => {
        dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), {once: true});
        dialog.returnValue = "";
        dialog.showModal();
        document.getElementById("entry-confirm-ok").focus();
      });
    }
    const say = (text) => { document.getElementById("entry-done").textContent = text; if (window.jizuo && window.jizuo.toast) window.jizuo.toast(text); };
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const kids = pick.selected(), error = document.getElementById("entry-error");
      error.textContent = "";
      if (!kids.length) return;
      const body = {student_ids: kids.map((k) => k.id), rule_code: form.rule_code.value};
      if (form.reason.value.trim()) body.reason = form.reason.value;
      if (kindOf() === "scored") body.score = Number(form.score.value);
      if (kindOf() === "by_level") body.level = form.level.value;
      const ev_ = form.evidence.value.split("\n").map((s) => s.trim()).filter(Boolean);
      if (ev_.length) body.evidence = ev_;
      const label = rule().textContent.trim();
      confirmMany(kids, label).then((ok) => {
        if (!ok) return;
        const button = document.getElementById("entry-submit");
        button.disabled = true;
        return api(form.dataset.api, "POST", body).then((d) => {
          const one = d.items[0];
          say(d.count === 1 ? `${W.done}：${one.name} ${signed(one.points)} → ${one.score}` : `${fmt(B.done_n, {n: d.count, rule: label})}`);
          form.reason.value = ""; form.evidence.value = "";
          pick.clear();
          return loadClass(new Set(d.items.map((e) => e.student_id)));
        }).catch((err) => { error.textContent = errorText(err); })
          .finally(() => { button.disabled = false; });
      });
    });
  }

  // ---- appeals queue ----------------------------------------------------------------------------
  const queue = document.getElementById("appeals");
  if (queue) {
    const load = () => api(queue.dataset.src + "?status=open").then((d) => {
      queue.tBodies[0].innerHTML = d.items.length ? d.items.map((a) => `<tr data-appeal="${a.id}"><td><a href="${queue.dataset.archive}${a.student_id}">${esc(a.student_name)}</a></td>` +
        `<td>${esc(a.rule_title ? a.rule_title[W.lang] || a.rule_title.zh : a.rule_code)} · ${esc(a.entry_reason)}</td><td class="num down">${signed(a.points)}</td><td>${esc(a.reason)}</td><td>${esc(a.by)}</td>` +
        `<td><input name="note" placeholder="${W.note}" size="14"> <button class="small" data-decision="accept">${W.accept}</button> <button class="small" data-decision="reject">${W.reject}</button></td></tr>`).join("")
        : `<tr><td colspan="6">${W.none}</td></tr>`;
    });
    queue.addEventListener("click", (ev) => {
      const decision = ev.target.dataset.decision;
      if (!decision) return;
      const row = ev.target.closest("tr");
      api(`${queue.dataset.decide}${row.dataset.appeal}/decide`, "POST", {decision, note: row.querySelector("input").value || undefined})
        .then(load).catch((err) => window.alert(errorText(err)));
    });
    load();
  }

  // ---- rulebook editor --------------------------------------------------------------------------
  const book = document.getElementById("rulebook");
  if (book && book.dataset.api && !book.hasAttribute("inert")) {
    const add = document.getElementById("add-item");
    if (add) add.addEventListener("click", () => {
      const tbody = book.querySelector("#items tbody"), copy = tbody.rows[tbody.rows.length - 1].cloneNode(true);
      copy.dataset.levels = "{}"; copy.querySelector("[name=code]").value = ""; copy.querySelector("[name=zh]").value = "";
      copy.querySelector("[name=en]").value = ""; copy.querySelector("[name=kind]").value = "fixed";
      copy.cells[5].innerHTML = '<input type="number" name="points" value="-1" min="-200" max="200">';
      tbody.appendChild(copy);
    });
    book.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const num = (el) => (el && el.value !== "" ? Number(el.value) : null);
      const items = [...book.querySelectorAll("#items tbody tr")].map((tr) => {
        const q = (n) => tr.querySelector(`[name=${n}]`), kind = q("kind").value;
        const item = {code: q("code").value.trim(), title: {zh: q("zh").value, en: q("en").value}, dimension: q("dimension").value,
          kind, points: num(q("points")) || 0, active: q("active").checked};
        if (kind === "scored") { item.par = Number(tr.dataset.par); item.factor = Number(tr.dataset.factor); }
        if (kind === "by_level") item.levels = JSON.parse(tr.dataset.levels || "{}");
        return item;
      });
      const caps = {};
      book.querySelectorAll("tr[data-dim]").forEach((tr) => {
        const lo = num(tr.querySelector("[name=cap_min]")), hi = num(tr.querySelector("[name=cap_max]"));
        if (lo !== null || hi !== null) caps[tr.dataset.dim] = {min: lo === null ? -10000 : lo, max: hi === null ? 10000 : hi};
      });
      const eligibility = [...book.querySelectorAll("p.elig")].map((p) => Object.assign(JSON.parse(p.dataset.rule), {
        min_score: num(p.querySelector("[name=min_score]")), no_deduction: [...p.querySelectorAll("[name=nd]:checked")].map((c) => c.value)}));
      const rulebook = {term: {name: book.term_name.value, start: book.term_start.value, end: book.term_end.value},
        starting_score: num(book.starting_score), items, caps, eligibility};
      document.getElementById("rulebook-error").textContent = "";
      api(book.dataset.api, "POST", {rulebook, note: book.note.value || undefined})
        .then((r) => { document.getElementById("rulebook-done").textContent = `${W.saved} v${r.version}`; setTimeout(() => location.reload(), 800); })
        .catch((err) => { document.getElementById("rulebook-error").textContent = errorText(err); });
    });
  }
})();
