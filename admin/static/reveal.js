// Reveal a full ID number through the API: the reason goes to the audit log.
document.getElementById("reveal").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const resp = await fetch(`/api/v1/students/${form.dataset.student}/reveal-id-number`, {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-CSRFToken": token},
    body: JSON.stringify({reason: form.reason.value}),
  });
  const body = await resp.json();
  document.getElementById("id-number").textContent = resp.ok ? body.id_number : body.error.message;
});
