// 预警 pages: show every <time class="local"> in the reader's own time zone (the server sends UTC).
document.querySelectorAll("time.local").forEach((el) => {
  const at = new Date(el.getAttribute("datetime"));
  if (!isNaN(at)) {
    el.textContent = at.toLocaleString(document.documentElement.lang, {month: "numeric", day: "numeric",
      hour: "2-digit", minute: "2-digit"});
  }
});
