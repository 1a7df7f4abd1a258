/* The page shell's behaviour, loaded on every page (foundation/shell/templates/jizuo/page.html).
 *
 *   jizuo.localTime(iso, part)  an API time (UTC) on the district's clock: "2026-12-02 07:54" ("date": the day)
 *   jizuo.toast(text, kind)  a short visible confirmation ("ok", the default, or "error"), announced to screen
 *                            readers (aria-live), gone after a few seconds; flashed messages arrive as toasts too
 *   the menu button          on phones the navigation folds behind it (aria-expanded; no hover needed)
 *   tables as cards          every cell of a `main table` gets data-label from its column's <th>, which the CSS
 *                            shows on phones; `table.keep-table` opts out and scrolls in its own box
 *   data-autosubmit          a select with it sends its form on change (pages allow no inline handlers: CSP)
 */
(function () {
  "use strict";
  var jizuo = window.jizuo = window.jizuo || {};

  function region() {
    var box = document.getElementById("toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "toasts";
      box.className = "toasts";
      box.setAttribute("aria-live", "polite");
      box.setAttribute("role", "status");
      document.body.appendChild(box);
    }
    return box;
  }

  function dismissLater(el, ms) {
    setTimeout(function () {
      el.classList.add("leaving");
      setTimeout(function () { if (el.parentNode) el.parentNode.removeChild(el); }, 300);
    }, ms);
  }

  /* Show `text` for a few seconds; kind "error" stays longer and is announced assertively. */
  jizuo.toast = function (text, kind) {
    kind = kind === "error" ? "error" : "ok";
    var el = document.createElement("div");
    el.className = "toast toast-" + kind;
    if (kind === "error") el.setAttribute("role", "alert");
    el.textContent = text;
    region().appendChild(el);
    dismissLater(el, kind === "error" ? 8000 : 4000);
    return el;
  };

  /* A time from the API (UTC, ISO) on the district's clock (<html data-tz>), as the pages print it:
     jizuo.localTime("2026-12-01T23:54:26Z") → "2026-12-02 07:54"; jizuo.localTime(iso, "date") → "2026-12-02". */
  jizuo.localTime = function (iso, part) {
    if (!iso) return "";
    var d = new Date(/Z$|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z");
    if (isNaN(d)) return iso;
    var tz = document.documentElement.getAttribute("data-tz") || undefined, bits = {};
    new Intl.DateTimeFormat("en-CA", {timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"}).formatToParts(d).forEach(function (p) { bits[p.type] = p.value; });
    var date = bits.year + "-" + bits.month + "-" + bits.day;
    return part === "date" ? date : date + " " + bits.hour + ":" + bits.minute;
  };

  function flashed() {
    var items = document.querySelectorAll("#toasts .toast");
    for (var i = 0; i < items.length; i++) {
      dismissLater(items[i], items[i].classList.contains("toast-error") ? 8000 : 4000);
    }
  }

  function menu() {
    var button = document.getElementById("menu-button");
    var header = document.querySelector("header.top");
    if (!button || !header) return;
    function set(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("open", open);
    }
    button.addEventListener("click", function () { set(button.getAttribute("aria-expanded") !== "true"); });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && button.getAttribute("aria-expanded") === "true") { set(false); button.focus(); }
    });
  }

  /* Each cell learns its column's label, so that a row can be shown as a card on a phone. */
  function labelTables(root) {
    var tables = (root || document).querySelectorAll("main table:not(.keep-table)");
    for (var i = 0; i < tables.length; i++) {
      var table = tables[i], heads = table.querySelectorAll("thead tr:last-child th, thead tr:last-child td");
      if (!heads.length) {
        var first = table.querySelector("tr");
        if (first && first.querySelector("th") && !first.querySelector("td")) heads = first.children;
      }
      if (!heads.length) { table.classList.add("no-head"); continue; }
      var labels = [];
      for (var h = 0; h < heads.length; h++) {
        var span = parseInt(heads[h].getAttribute("colspan") || "1", 10);
        for (var s = 0; s < span; s++) labels.push(heads[h].textContent.trim());
      }
      var rows = table.querySelectorAll("tbody tr, tfoot tr");
      for (var r = 0; r < rows.length; r++) {
        var col = 0, cells = rows[r].children;
        for (var c = 0; c < cells.length; c++) {
          if (!cells[c].hasAttribute("data-label") && labels[col]) cells[c].setAttribute("data-label", labels[col]);
          // long text gets the card's whole width rather than half of it
          if (cells[c].textContent.trim().length > 24) cells[c].classList.add("cell-wide");
          col += parseInt(cells[c].getAttribute("colspan") || "1", 10);
        }
      }
      table.classList.add("cards-ready");
    }
  }
  jizuo.labelTables = labelTables;

  /* Rows that scripts draw later (live boards, lists fetched after load) get their labels too. */
  function watchTables() {
    var main = document.querySelector("main");
    if (!main || !window.MutationObserver) return;
    var queued = false;
    new MutationObserver(function () {
      if (queued) return;
      queued = true;
      setTimeout(function () { queued = false; labelTables(main); }, 0);
    }).observe(main, {childList: true, subtree: true});
  }

  /* A select marked data-autosubmit sends its form when changed (the page's CSP allows no onchange=). */
  function autosubmit() {
    document.addEventListener("change", function (e) {
      var el = e.target;
      if (el && el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) el.form.submit();
    });
  }

  function ready() {
    flashed();
    menu();
    labelTables(document);
    watchTables();
    autosubmit();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
