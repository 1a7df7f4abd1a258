// 消息中心: live inbox (server-sent events), read receipts on opening, archive, reply.
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

  function local(iso) {  // "2026-11-25T10:24:00Z" → the reader's own clock, "2026-11-25 18:24"
    var d = new Date(iso), p = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }
  Array.prototype.forEach.call(list.querySelectorAll("time[datetime]"), function (t) {
    t.textContent = local(t.getAttribute("datetime"));
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function build(m) {  // the same structure as messages_item.html, built with textContent only
    var li = el("li", "msg card unread fresh" + (m.mandatory ? " urgent" : ""));
    li.dataset.id = m.id;
    li.dataset.replyable = m.replyable ? "1" : "0";
    var d = el("details"), s = el("summary");
    s.appendChild(el("span", "msg-type", m.type_title));
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

  list.addEventListener("toggle", function (ev) {
    var li = ev.target.closest("li.msg");
    if (!ev.target.open || !li || !li.classList.contains("unread")) return;
    post("/api/v1/messages/inbox/" + li.dataset.id + "/read").then(function (r) {
      li.classList.remove("unread", "fresh"); setUnread(r.unread);
    });
  }, true);

  list.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button.archive");
    if (!btn) return;
    var li = btn.closest("li.msg");
    post("/api/v1/messages/inbox/" + li.dataset.id + "/archive", {archived: btn.dataset.archived !== "1"})
      .then(function (r) { li.remove(); setUnread(r.unread); });
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
