// Install, enable, disable or uninstall a plugin for the school through the plugins API. Disabling and
// uninstalling first ask, in a dialog that says what happens to the school's data, and take a reason (the
// API refuses an empty one, naming the field). After a change the page reloads and says what was done.
(function () {
  "use strict";
  var dialog = document.getElementById("plugin-dialog");
  var SAID = "jizuo.square.done";

  function toast(text, kind) {
    if (window.jizuo && window.jizuo.toast) window.jizuo.toast(text, kind);
  }

  var said = sessionStorage.getItem(SAID);
  if (said) {
    sessionStorage.removeItem(SAID);
    toast(said);
  }

  function text(key, title) {
    return (dialog.dataset[key] || "").replace("{title}", title);
  }

  function finished(key, title) {
    sessionStorage.setItem(SAID, text(key, title));
    location.reload();
  }

  async function call(method, url, body) {
    var token = document.querySelector('meta[name="csrf-token"]').content;
    var resp = await fetch(url, {method: method, body: JSON.stringify(body || {}),
                                 headers: {"Content-Type": "application/json", "X-CSRFToken": token}});
    if (resp.ok) return null;
    try {
      return (await resp.json()).error;
    } catch (e) {
      return {message: resp.status + " " + resp.statusText, fields: {}};
    }
  }

  function describe(error) {
    var fields = Object.keys(error.fields || {}).map(function (k) { return error.fields[k]; });
    return fields.length ? fields.join("；") : error.message;
  }

  var pending = null;  // {plugin, action, title} the dialog is asking about

  function ask(plugin, action, title) {
    pending = {plugin: plugin, action: action, title: title};
    var form = document.getElementById("pd-form");
    form.reset();
    document.getElementById("pd-title").textContent = text(action + "Title", title);
    document.getElementById("pd-data").hidden = action !== "uninstall";
    document.getElementById("pd-reason").removeAttribute("aria-invalid");
    document.getElementById("pd-error").hidden = true;
    explain();
    dialog.showModal();
    document.getElementById("pd-reason").focus();
  }

  function purging() {
    var picked = document.querySelector("#pd-data input[name=purge]:checked");
    return pending.action === "uninstall" && picked && picked.value === "true";
  }

  // the dialog's words follow the choice: keeping the data, or removing it for good
  function explain() {
    var mode = purging() ? "purge" : pending.action;
    document.getElementById("pd-what").textContent = text(mode + "What", pending.title);
    document.getElementById("pd-confirm").textContent = text(mode + "Confirm", pending.title);
    document.getElementById("pd-confirm").classList.toggle("danger", purging());
  }

  if (dialog) {
    document.querySelectorAll("#pd-data input[name=purge]").forEach(function (radio) {
      radio.addEventListener("change", explain);
    });
    document.getElementById("pd-cancel").addEventListener("click", function () { dialog.close(); });
    document.getElementById("pd-reason").addEventListener("input", function () {
      document.getElementById("pd-error").hidden = true;
      document.getElementById("pd-reason").removeAttribute("aria-invalid");
    });
    document.getElementById("pd-form").addEventListener("submit", async function (event) {
      event.preventDefault();
      var reason = document.getElementById("pd-reason").value;
      var confirm = document.getElementById("pd-confirm");
      var purge = purging();
      var url = "/api/v1/plugins/" + encodeURIComponent(pending.plugin);
      confirm.disabled = true;
      var error = pending.action === "disable"
        ? await call("POST", url + "/disable", {reason: reason})
        : await call("DELETE", url + (purge ? "?purge=true" : ""), {reason: reason});
      confirm.disabled = false;
      if (!error) {
        dialog.close();
        finished(purge ? "purgeDone" : pending.action + "Done", pending.title);
        return;
      }
      var box = document.getElementById("pd-error");
      box.textContent = (error.fields && error.fields.reason) || describe(error);
      box.hidden = false;
      document.getElementById("pd-reason").setAttribute("aria-invalid", "true");
      document.getElementById("pd-reason").focus();
    });
  }

  document.querySelectorAll("button.plugin-action").forEach(function (button) {
    button.addEventListener("click", async function () {
      var plugin = button.dataset.plugin, action = button.dataset.action, title = button.dataset.title;
      if (action === "disable" || action === "uninstall") {
        ask(plugin, action, title);
        return;
      }
      button.disabled = true;
      var error = await call("POST", "/api/v1/plugins/" + encodeURIComponent(plugin) + "/" + action, {});
      button.disabled = false;
      if (!error) {
        finished(action + "Done", title);
        return;
      }
      toast(describe(error), "error");
    });
  });
})();
