// 预警 pages: show every <time class="local"> on the district's clock (<html data-tz>, the shell's
// jizuo.localTime), not the browser's: a deadline reads the same on every reader's machine.
document.querySelectorAll("time.local").forEach((el) => {
  const shown = window.jizuo.localTime(el.getAttribute("datetime"));
  if (shown) el.textContent = shown;
});
