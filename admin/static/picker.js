/* The searchable student picker: a progressive enhancement of a form field marked data-picker="students".
 *
 *   <select name="student_id" data-picker="students" data-search="/api/v1/students/search" data-words='{…}'>
 *   <select name="student_ids" multiple data-picker="students" …>     several students, shown as chips
 *   <input type="hidden" name="ids" data-picker="students" data-multiple …>   ids in the value, comma-separated
 *
 * The person types part of a name, the pinyin initials (张小明 → zxm) or the start of a student number and
 * picks from up to 20 hits (name, class, number) with the mouse, a finger, or the arrow keys and Enter. The
 * field keeps the chosen ids, so the form posts as before. Optional: data-class-id (one class only),
 * data-limit. The texts come in data-words (foundation.api.search.student_picker gives them).
 *
 * Pages talk to a picker through field.jizuoPicker: selected() → [{id, name, class_name, student_no}],
 * add(item or items), remove(id or ids), clear(); every change fires "change" on the field. window.jizuo.picker(field)
 * enhances a field added later.
 */
(function () {
  "use strict";
  var jizuo = window.jizuo = window.jizuo || {};
  var serial = 0;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  function detail(item) {
    return [item.class_name, item.student_no].filter(Boolean).join(" · ");
  }

  function enhance(field) {
    if (field.jizuoPicker) return field.jizuoPicker;
    var words = {};
    try { words = JSON.parse(field.dataset.words || "{}"); } catch (e) { words = {}; }
    var multiple = field.multiple || field.hasAttribute("data-multiple");
    var isSelect = field.tagName === "SELECT";
    var required = field.required;
    var id = "picker-" + (++serial);
    var chosen = [];  // [{id, name, class_name, student_no}]
    var hits = [], active = -1, timer = null, asked = 0, controller = null;

    var box = el("div", "picker" + (multiple ? " picker-multi" : ""));
    var chips = el("ul", "picker-chips");
    chips.setAttribute("aria-label", words.chosen || "");
    var input = el("input", "picker-input");
    input.type = "search";
    input.autocomplete = "off";
    input.setAttribute("enterkeyhint", "search");
    input.placeholder = words.placeholder || "";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id + "-list");
    var label = field.getAttribute("aria-label") || (field.labels && field.labels[0] && field.labels[0].textContent.trim());
    input.id = (field.id || id) + "-search";
    if (label) input.setAttribute("aria-label", label);
    var list = el("ul", "picker-list");
    list.id = id + "-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    var status = el("p", "picker-status");
    status.setAttribute("aria-live", "polite");
    box.append(chips, input, list, status);

    // the field stays in the form (hidden) and carries the ids
    field.hidden = true;
    field.style.display = "none";  // form styles may set display on selects: [hidden] alone loses
    field.required = false;
    field.setAttribute("tabindex", "-1");
    field.parentNode.insertBefore(box, field.nextSibling);
    if (field.labels) [].forEach.call(field.labels, function (l) { l.htmlFor = input.id; });

    function readInitial() {
      if (isSelect) {
        [].forEach.call(field.options, function (o) {
          if (o.selected && o.value) chosen.push({id: Number(o.value), name: o.dataset.name || o.textContent.trim(),
            class_name: o.dataset.className || "", student_no: o.dataset.studentNo || ""});
        });
      } else if (field.value) {
        var names = (field.dataset.labels || "").split(",");
        field.value.split(",").forEach(function (v, i) {
          if (v.trim()) chosen.push({id: Number(v), name: names[i] || v, class_name: "", student_no: ""});
        });
      }
      if (!multiple) chosen = chosen.slice(0, 1);
    }

    function sync() {
      if (isSelect) {
        [].slice.call(field.options).forEach(function (o) { if (o.value) o.remove(); });
        chosen.forEach(function (c) {
          var o = new Option(c.name, String(c.id), true, true);
          o.dataset.name = c.name; o.dataset.className = c.class_name || ""; o.dataset.studentNo = c.student_no || "";
          field.add(o);
        });
        if (!chosen.length && field.options.length) field.selectedIndex = 0;
      } else {
        field.value = chosen.map(function (c) { return c.id; }).join(",");
      }
    }

    var expanded = false, FOLD = 12;  // a whole class picked: a few chips and "all 42", not 42 lines on a phone
    function drawChips() {
      chips.innerHTML = "";
      if (chosen.length <= FOLD) expanded = false;
      var shown = expanded || chosen.length <= FOLD ? chosen : chosen.slice(0, FOLD - 4);
      shown.forEach(function (c) {
        var li = el("li", "chip");
        li.dataset.id = c.id;
        li.append(el("span", "chip-name", c.name));
        if (detail(c)) li.append(el("small", null, detail(c)));
        var x = el("button", "chip-remove", "×");
        x.type = "button";
        x.setAttribute("aria-label", (words.remove || "×") + " " + c.name);
        x.addEventListener("click", function () { remove(c.id); input.focus(); });
        li.append(x);
        chips.append(li);
      });
      if (shown.length < chosen.length) {
        var more = el("button", "chip chip-more", (words.show_all || "{n}").replace("{n}", chosen.length));
        more.type = "button";
        more.addEventListener("click", function () { expanded = true; drawChips(); });
        var li = el("li");
        li.append(more);
        chips.append(li);
      }
      chips.hidden = !chosen.length;
      box.classList.toggle("has-choice", chosen.length > 0);
    }

    function changed() {
      sync();
      drawChips();
      field.dispatchEvent(new Event("change", {bubbles: true}));
    }

    function add(items) {  // one student or a list of them (a whole class)
      var fresh = [].concat(items || []).filter(function (item) {
        return item && !chosen.some(function (c) { return c.id === item.id; });
      }).map(function (item) {
        return {id: item.id, name: item.name, class_name: item.class_name || "", student_no: item.student_no || ""};
      });
      if (!fresh.length) return;
      chosen = multiple ? chosen.concat(fresh) : fresh.slice(-1);
      status.textContent = "";
      changed();
    }

    function remove(ids) {  // one id or a list of them
      var gone = [].concat(ids).map(Number);
      var kept = chosen.filter(function (c) { return gone.indexOf(c.id) < 0; });
      if (kept.length === chosen.length) return;
      chosen = kept;
      changed();
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(i) {
      var items = list.querySelectorAll("[role=option]");
      if (!items.length) return;
      active = (i + items.length) % items.length;
      [].forEach.call(items, function (li, n) { li.classList.toggle("active", n === active); });
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({block: "nearest"});
    }

    function draw() {
      list.innerHTML = "";
      if (!hits.length) {
        list.append(el("li", "picker-empty", words.none || "—"));
      }
      hits.forEach(function (h, n) {
        var li = el("li", "picker-option");
        li.id = id + "-o" + n;
        li.setAttribute("role", "option");
        var taken = chosen.some(function (c) { return c.id === h.id; });
        li.setAttribute("aria-selected", taken ? "true" : "false");
        li.append(el("span", "picker-name", h.name), el("small", null, detail(h) + (taken ? " · " + (words.chosen_one || "✓") : "")));
        // pointerdown keeps the focus in the input (no blur closing the list before the tap lands)
        li.addEventListener("pointerdown", function (ev) { ev.preventDefault(); });
        li.addEventListener("click", function () { pick(n); });
        list.append(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
      if (hits.length) highlight(0);
    }

    function pick(n) {
      var h = hits[n];
      if (!h) return;
      add(h);
      input.value = "";
      close();
      if (multiple) input.focus();
    }

    function search() {
      var q = input.value.trim();
      if (!q) { close(); status.textContent = ""; return; }
      var params = new URLSearchParams({q: q, limit: field.dataset.limit || "20"});
      if (field.dataset.classId) params.set("class_id", field.dataset.classId);
      var mine = ++asked;
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      status.textContent = words.searching || "";
      fetch(field.dataset.search + "?" + params, {credentials: "same-origin", headers: {"Accept": "application/json"},
                                                 signal: controller ? controller.signal : undefined})
        .then(function (r) { return r.json().then(function (d) { return {ok: r.ok, data: d}; }); })
        .then(function (r) {
          if (mine !== asked) return;
          if (!r.ok) throw new Error((r.data.error && r.data.error.message) || "");
          hits = r.data.items || [];
          status.textContent = r.data.total > hits.length ? (words.more || "").replace("{n}", r.data.total) : "";
          draw();
        })
        .catch(function (err) {
          if (err.name === "AbortError" || mine !== asked) return;
          status.textContent = words.failed || err.message;
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 150);
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        if (list.hidden) { if (input.value.trim()) search(); return; }
        highlight(active + (ev.key === "ArrowDown" ? 1 : -1));
      } else if (ev.key === "Enter") {
        ev.preventDefault();  // Enter picks; it never submits the form half-filled
        if (!list.hidden && active >= 0) pick(active);
        else if (input.value.trim()) { clearTimeout(timer); search(); }
      } else if (ev.key === "Escape") {
        if (!list.hidden) { ev.preventDefault(); close(); }
      } else if (ev.key === "Backspace" && !input.value && multiple && chosen.length) {
        remove(chosen[chosen.length - 1].id);
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    input.addEventListener("focus", function () { if (input.value.trim() && hits.length) draw(); });

    if (required && field.form) {
      field.form.addEventListener("submit", function (ev) {
        if (chosen.length) return;
        ev.preventDefault();
        ev.stopImmediatePropagation();
        status.textContent = words.required || "";
        input.focus();
      }, true);
    }

    readInitial();
    sync();
    drawChips();
    field.jizuoPicker = {
      selected: function () { return chosen.slice(); },
      add: add,
      remove: remove,
      clear: function () { chosen = []; changed(); },
      input: input,
    };
    return field.jizuoPicker;
  }

  jizuo.picker = enhance;
  function all() { document.querySelectorAll("[data-picker=students]").forEach(enhance); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
})();
