// Archestra Edge console: copy buttons, and the servers table kept live over server-sent events.
// The page works without it; nothing here builds HTML from data (the server renders and encodes every fragment).
"use strict";

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  try {
    await navigator.clipboard.writeText(source.textContent);
    button.textContent = "Copied";
  } catch {
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => (button.textContent = "Copy"), 2000);
});

const live = document.querySelector("[data-live]");
if (live && window.EventSource) {
  const marker = document.querySelector(".live");
  const events = new EventSource(live.dataset.live);
  events.addEventListener("servers", (event) => {
    live.innerHTML = event.data;
    document.body.dataset.updates = String(Number(document.body.dataset.updates ?? "0") + 1);
  });
  events.onopen = () => marker?.classList.add("on");
  events.onerror = () => marker?.classList.remove("on");
}
