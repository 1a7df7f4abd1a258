// Install, enable or disable a plugin for the school through the plugins API, then reload the square.
document.querySelectorAll("button.plugin-toggle").forEach((button) => {
  button.addEventListener("click", async () => {
    const token = document.querySelector('meta[name="csrf-token"]').content;
    const name = button.dataset.plugin;
    const state = button.dataset.state;
    const url = state === "none" ? `/api/v1/plugins/${name}/install`
      : `/api/v1/plugins/${name}/${state === "on" ? "disable" : "enable"}`;
    const resp = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                                   body: JSON.stringify({})});
    if (resp.ok) { location.reload(); return; }
    const body = await resp.json();
    button.insertAdjacentText("afterend", " " + body.error.message + " " + JSON.stringify(body.error.fields));
  });
});
