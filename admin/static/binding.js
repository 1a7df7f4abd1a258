// Issue a parent binding code through the API; show it once next to the guardian.
document.querySelectorAll("button.binding").forEach((button) => {
  button.addEventListener("click", async () => {
    const token = document.querySelector('meta[name="csrf-token"]').content;
    const resp = await fetch(`/api/v1/guardians/${button.dataset.guardian}/binding-code`, {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token},
      body: JSON.stringify({student_id: Number(button.dataset.student)}),
    });
    const body = await resp.json();
    const out = button.nextElementSibling;
    out.hidden = false;
    out.querySelector("b").textContent = resp.ok ? body.code : body.error.message;
    button.hidden = resp.ok;
  });
});
