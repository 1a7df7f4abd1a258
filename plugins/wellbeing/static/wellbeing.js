// The wellbeing pages: the live case list (redrawn when the message center pushes an alert), scheduling a
// screening, a student's answers, a guardian's consent and the reminder. Scripts only here (CSP).
(function () {
  "use strict";
  var W = JSON.parse((document.getElementById("wellbeing-words") || {}).textContent || "{}");
  var csrf = function () { return (document.querySelector('meta[name="csrf-token"]') || {}).content || ""; };

  function api(method, url, body) {
    return fetch(url, {method: method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json"},
      body: body === undefined ? undefined : JSON.stringify(body)}).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { var e = new Error("http " + r.status); e.data = data; throw e; }
        return data;
      });
    });
  }

  function problem(err) {
    var e = (err.data || {}).error || {};
    var fields = e.fields ? Object.keys(e.fields).map(function (k) { return e.fields[k]; }).join("; ") : "";
    return (e.message || W.failed) + (fields ? ": " + fields : "");
  }

  function say(id, text) { var p = document.getElementById(id); p.textContent = text; p.hidden = !text; }

  function el(tag, attrs, text) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text != null) n.textContent = text;
    return n;
  }

  // ---- the live case list -----------------------------------------------------------------------------
  var table = document.getElementById("wb-cases");
  function due(c) {
    var td = el("td", {"class": "due"});
    var add = function (key, at) {
      td.appendChild(el("span", {"data-due": key}, W[key] + " " + jizuo.localTime(at).slice(5)));
      td.appendChild(document.createTextNode(" "));
    };
    if (c.contact_due_at) { add("contact", c.contact_due_at); add("plan", c.plan_due_at); }
    else if (c.follow_due_at) add("follow", c.follow_due_at);
    else if (c.case_id) td.textContent = W.attached;
    return td;
  }
  function draw(items) {
    var body = table.querySelector("tbody");
    body.textContent = "";
    if (!items.length) {
      var tr = el("tr", {"class": "empty"}); tr.appendChild(el("td", {colspan: "5"}, W.none)); body.appendChild(tr);
    }
    items.forEach(function (c) {
      var tr = el("tr", {"data-student": c.student_id, "data-level": c.level});
      var lvl = el("td"); lvl.appendChild(el("span", {"class": "badge wb-" + c.level}, W[c.level])); tr.appendChild(lvl);
      var who = el("td"); who.appendChild(el("a", {href: "/wellbeing/students/" + c.student_id}, c.name));
      who.appendChild(document.createTextNode(" ")); who.appendChild(el("span", {"class": "mono"}, c.student_no));
      tr.appendChild(who);
      tr.appendChild(el("td", {}, c.screening || ""));
      tr.appendChild(due(c));
      var link = el("td"); if (c.case_id) link.appendChild(el("a", {href: "/alerts/" + c.case_id}, W.open_case));
      tr.appendChild(link);
      body.appendChild(tr);
    });
    if (window.jizuo && jizuo.tables) jizuo.tables();
  }
  function refresh() { return api("GET", "/wellbeing/api/cases").then(function (d) { draw(d.items); }); }
  if (table && window.EventSource) {
    var status = document.getElementById("live-status");
    var connect = function () {
      var source = new EventSource("/api/v1/messages/stream");
      source.onopen = function () { status.textContent = status.dataset.on; refresh(); };
      source.onerror = function () {
        status.textContent = status.dataset.off;
        if (source.readyState === EventSource.CLOSED) setTimeout(connect, 15000);
      };
      source.addEventListener("message", function (ev) {
        var m = JSON.parse(ev.data);
        if (m.link && m.link.indexOf("/alerts/") === 0) refresh();
      });
    };
    connect();
  }

  // ---- scheduling a screening ---------------------------------------------------------------------------
  var schedule = document.getElementById("wb-schedule");
  if (schedule) schedule.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = schedule.elements, ints = function (list) { return list.map(Number); };
    var grades = Array.prototype.filter.call(schedule.querySelectorAll("input[name=grade_ids]"), function (c) { return c.checked; })
      .map(function (c) { return c.value; });
    var classes = Array.prototype.filter.call(f.class_ids.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
    var body = {opens_on: f.opens_on.value, closes_on: f.closes_on.value, grade_ids: ints(grades), class_ids: ints(classes)};
    var scale = f.instrument.value;  // a scale, or the school's clone of one ("form:<id>", with its own questions)
    if (scale.indexOf("form:") === 0) body.form_id = Number(scale.slice(5)); else body.instrument = scale;
    if (f.title.value.trim()) body.title = f.title.value.trim();
    api("POST", "/wellbeing/api/screenings", body).then(function (d) { location.href = "/wellbeing/screenings/" + d.id; })
      .catch(function (err) { say("wb-schedule-error", problem(err)); });
  });

  // ---- a student's answers ---------------------------------------------------------------------------------
  var fill = document.getElementById("wb-fill");
  if (fill) fill.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var n = Number(fill.dataset.items), answers = [], extra = {};
    for (var i = 1; i <= n; i++) {
      var picked = fill.querySelector("input[name=q" + i + "]:checked");
      answers.push(picked ? Number(picked.value) : null);
    }
    fill.querySelectorAll("[data-extra]").forEach(function (t) {  // the school's own questions, by kind
      var kind = t.dataset.kind, v = t.value.trim();
      if (kind === "boolean") extra[t.dataset.extra] = t.checked;
      else if (v && kind === "json") extra[t.dataset.extra] = JSON.parse(v);
      else if (v && kind === "number") extra[t.dataset.extra] = Number(v);
      else if (v) extra[t.dataset.extra] = v;
    });
    var button = fill.querySelector("button"); button.disabled = true;
    api("POST", "/wellbeing/api/screenings/" + fill.dataset.screening + "/responses", {answers: answers, extra: extra})
      .then(function () { location.href = fill.dataset.next; })
      .catch(function (err) { button.disabled = false; say("wb-fill-error", problem(err)); });
  });

  // ---- a guardian's consent; the reminder --------------------------------------------------------------------
  document.querySelectorAll("button[data-consent]").forEach(function (b) {
    b.addEventListener("click", function () {
      var granted = b.dataset.granted === "1";
      api("POST", "/wellbeing/api/consents/" + b.dataset.consent, {granted: granted}).then(function () {
        b.closest(".wb-consent").querySelector(".wb-consent-state").textContent = granted ? W.granted : W.refused;
        jizuo.toast(W.saved);
      }).catch(function (err) { jizuo.toast(problem(err), "error"); });
    });
  });
  var remind = document.getElementById("wb-remind");
  if (remind) remind.addEventListener("click", function () {
    api("POST", "/wellbeing/api/screenings/" + remind.dataset.screening + "/remind").then(function (d) {
      jizuo.toast(W.reminded.replace("{n}", d.reminded));
    }).catch(function (err) { jizuo.toast(problem(err), "error"); });
  });
})();
