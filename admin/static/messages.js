// 消息中心: live inbox (server-sent events), read receipts on opening, 确认收到, archive, reply.
(function () {
  "use strict";
  var list = document.getElementById("inbox");
  if (!list) return;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var L = list.dataset;

  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(body || {})}).then(function (r) { return r.ok ? r.json() : Promise.reject(r); });
  }

  function setUnread(n) {
    var line = document.getElementById("unread-line");
    if (line) line.textContent = line.textContent.replace(/\d+/, String(n));
    var badge = document.getElementById("nav-unread");
    if (badge) { badge.textContent = String(n); badge.hidden = n === 0; }
  }

  function local(iso, short) {  // "2026-11-25T10:24:00Z" → the reader's own clock, "2026-11-25 18:24" (short: "11-25 18:24")
    var d = new Date(iso), p = function (n) { return (n < 10 ? "0" : "") + n; };
    var day = p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
    return short ? day : d.getFullYear() + "-" + day;
  }
  Array.prototype.forEach.call(list.querySelectorAll("time[datetime]"), function (t) {
    t.textContent = local(t.getAttribute("datetime"), t.classList.contains("short"));
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function ackForm(m) {  // the same as the form in messages_item.html
    var f = el("form", "msg-ack");
    f.method = "post"; f.action = "/messages/inbox/" + m.id + "/ack";
    var token = el("input"); token.type = "hidden"; token.name = "csrf_token"; token.value = csrf;
    f.appendChild(token);
    if (m.acked_at) {
      f.appendChild(acked(m.acked_at));
    } else {
      var b = el("button", "msg-ack-button", L.lAck); b.type = "submit"; f.appendChild(b);
      f.appendChild(el("p", "note", L.lAckExplain));
    }
    return f;
  }

  function acked(iso) {
    var p = el("p", "msg-acked", "✓ " + L.lAcked + " "), when = el("time", "short", local(iso, true));
    p.setAttribute("role", "status");
    when.setAttribute("datetime", iso);
    p.appendChild(when);
    return p;
  }

  function files(m) {
    var ul = el("ul", "msg-files");
    ul.setAttribute("aria-label", L.lFiles);
    m.attachments.forEach(function (f) {
      var li = el("li"), a;
      if (f.image) {
        a = el("a", "msg-thumb"); a.href = f.url; a.target = "_blank"; a.rel = "noopener";
        var img = el("img"); img.src = f.url; img.alt = f.name; img.loading = "lazy"; a.appendChild(img);
      } else {
        a = el("a", "msg-file", f.name + " "); a.href = f.url; a.setAttribute("download", "");
        a.appendChild(el("small", null, "PDF · " + f.size_text));
      }
      li.appendChild(a); ul.appendChild(li);
    });
    return ul;
  }

  function build(m) {  // the same structure as messages_item.html, built with textContent only
    var needsAck = m.ack_required && !m.acked_at;
    var li = el("li", "msg card unread fresh" + (m.mandatory ? " urgent" : "") + (needsAck ? " needs-ack" : ""));
    li.id = "m" + m.id;
    li.dataset.id = m.id;
    li.dataset.replyable = m.replyable ? "1" : "0";
    var d = el("details"), s = el("summary");
    d.open = needsAck;
    s.appendChild(el("span", "msg-type", m.type_title));
    if (m.ack_required) {
      s.appendChild(document.createTextNode(" "));
      s.appendChild(el("span", "msg-ack-flag" + (m.acked_at ? " done" : ""), m.acked_at ? L.lAckFlagDone : L.lAckFlag));
    }
    s.appendChild(document.createTextNode(" "));
    s.appendChild(el("b", "msg-subject", m.subject));
    var note = el("span", "note", " " + (m.sender ? L.lFrom + " " + m.sender + " · " : ""));
    var when = el("time", null, local(m.created_at));
    when.setAttribute("datetime", m.created_at);
    note.appendChild(when);
    s.appendChild(note);
    s.appendChild(el("span", "new-flag", L.lNew));
    d.appendChild(s);
    d.appendChild(el("div", "msg-body", m.body));
    if (m.attachments && m.attachments.length) d.appendChild(files(m));
    if (m.link && /^\/[^\/\\]/.test(m.link)) {  // a path of this site, drawn as a button with words
      var lp = el("p", "msg-link"), a = el("a", "button", m.link_label);
      a.href = m.link; lp.appendChild(a); d.appendChild(lp);
    }
    if (m.ack_required) d.appendChild(ackForm(m));
    var actions = el("p", "msg-actions"), arch = el("button", "small link archive", L.lArchive);
    arch.type = "button"; arch.dataset.archived = "0";
    actions.appendChild(arch); d.appendChild(actions);
    if (m.replyable) {
      var f = el("form", "msg-reply"), lab = el("label", null, L.lReply + " "), ta = el("textarea");
      ta.name = "body"; ta.rows = 2; ta.maxLength = 5000; ta.required = true;
      lab.appendChild(ta); f.appendChild(lab);
      var b = el("button", "small", L.lReplySend); b.type = "submit"; f.appendChild(b);
      var done = el("span", "note replied", L.lReplied); done.hidden = true; f.appendChild(done);
      d.appendChild(f);
    }
    li.appendChild(d);
    return li;
  }

  function markRead(li) {
    if (!li.classList.contains("unread") || li.dataset.reading) return;
    li.dataset.reading = "1";
    post("/api/v1/messages/inbox/" + li.dataset.id + "/read").then(function (r) {
      li.classList.remove("unread", "fresh"); setUnread(r.unread);
    });
  }

  list.addEventListener("toggle", function (ev) {
    var li = ev.target.closest("li.msg");
    if (ev.target.open && li) markRead(li);
  }, true);
  // a notice that asks to be confirmed is shown open: shown is read
  Array.prototype.forEach.call(list.querySelectorAll("li.msg.unread > details[open]"), function (d) {
    markRead(d.parentNode);
  });

  list.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button.archive");
    if (!btn) return;
    var li = btn.closest("li.msg");
    post("/api/v1/messages/inbox/" + li.dataset.id + "/archive", {archived: btn.dataset.archived !== "1"})
      .then(function (r) { li.remove(); setUnread(r.unread); });
  });

  list.addEventListener("submit", function (ev) {  // 确认收到: one tap, stays on the page
    var form = ev.target.closest("form.msg-ack");
    if (!form || !window.fetch) return;
    ev.preventDefault();
    var li = form.closest("li.msg"), btn = form.querySelector("button");
    if (btn) btn.disabled = true;
    post("/api/v1/messages/inbox/" + li.dataset.id + "/ack").then(function (r) {
      if (btn) btn.remove();
      var note = form.querySelector(".note"); if (note) note.remove();
      form.appendChild(acked(r.acked_at));
      li.classList.remove("needs-ack", "unread", "fresh");
      var flag = li.querySelector(".msg-ack-flag");
      if (flag) { flag.textContent = L.lAckFlagDone; flag.classList.add("done"); }
      setUnread(r.unread);
      if (window.jizuo && jizuo.toast) jizuo.toast(L.lAckToast);
    }, function () {
      if (btn) btn.disabled = false;
      form.submit();  // let the page answer (and say what went wrong)
    });
  });

  list.addEventListener("submit", function (ev) {
    var form = ev.target.closest("form.msg-reply");
    if (!form) return;
    ev.preventDefault();
    var li = form.closest("li.msg"), ta = form.querySelector("textarea");
    post("/api/v1/messages/inbox/" + li.dataset.id + "/reply", {body: ta.value}).then(function () {
      ta.value = ""; form.querySelector(".replied").hidden = false;
    });
  });

  if (L.live !== "1" || !window.EventSource) return;
  var status = document.getElementById("live-status");
  var last = L.lastId || "0";

  function show(ev) {
    var m = JSON.parse(ev.data);
    last = String(m.id);
    if (list.querySelector('li.msg[data-id="' + m.id + '"]')) return;  // already shown
    var empty = list.querySelector(".msg-empty");
    if (empty) empty.remove();
    list.insertBefore(build(m), list.firstChild);
    if (m.unread != null) setUnread(m.unread);
  }

  function connect() {
    var source = new EventSource("/api/v1/messages/stream?after=" + encodeURIComponent(last));
    source.onopen = function () { status.textContent = status.dataset.on; status.classList.remove("error"); };
    source.onerror = function () {
      status.textContent = status.dataset.off; status.classList.add("error");
      // the browser retries by itself after a dropped connection; after a refusal (server busy) it
      // gives up, so try again in a while from the last message shown
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 15000);
    };
    source.addEventListener("message", show);
  }
  connect();
})();

// 发通知: how far the notice goes (accounts reached, families without an account), before sending.
(function () {
  "use strict";
  var form = document.querySelector("form.msg-send"), out = document.getElementById("msg-reach");
  if (!form || !out || !window.fetch) return;
  var D = out.dataset, seq = 0;

  function fill(template, n) { return template.replace("{n}", String(n)); }

  function show(r) {
    out.textContent = "";
    out.appendChild(document.createTextNode(fill(D.will, r.accounts)));
    var extra = [];
    if (r.families_without_account) extra.push(fill(D.families, r.families_without_account));
    else if (r.families_without_account === 0 && r.students) out.appendChild(document.createTextNode(D.sep + fill(D.allFamilies, r.students)));
    if (r.students_without_account) extra.push(fill(D.students, r.students_without_account));
    extra.forEach(function (text) {
      out.appendChild(document.createTextNode(D.sep));
      var w = document.createElement("span"); w.className = "warn"; w.textContent = text; out.appendChild(w);
    });
    out.hidden = false;
  }

  function update() {
    var kind = form.querySelector("input[name=kind]:checked"), q = new URLSearchParams();
    if (!kind) { out.hidden = true; return; }
    q.set("kind", kind.value);
    ["class_id", "target", "school_id", "role", "student_id"].forEach(function (name) {
      var field = form.elements[name];
      if (field && field.value) q.set(name, field.value);
    });
    var mine = ++seq;
    fetch("/api/v1/messages/reach?" + q.toString(), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r); })
      .then(function (r) { if (mine === seq) show(r); }, function () { if (mine === seq) out.hidden = true; });
  }

  form.addEventListener("change", function (ev) {
    if (ev.target.name === "kind" || ["class_id", "target", "school_id", "role"].indexOf(ev.target.name) >= 0) {
      if (ev.target.tagName === "SELECT") {  // picking a class or school picks its kind too
        var kind = {class_id: "class", target: "class", school_id: "school", role: "school"}[ev.target.name];
        var radio = form.querySelector("input[name=kind][value=" + kind + "]");
        if (radio) radio.checked = true;
      }
      update();
    }
  });
  update();
})();
