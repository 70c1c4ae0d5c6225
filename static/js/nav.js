// The main menu folds behind a "Menu" button on a narrow screen. Without this script the
// links simply wrap, so every page stays reachable.
document.addEventListener("DOMContentLoaded", () => {
  const bar = document.querySelector(".topbar");
  const toggle = bar && bar.querySelector(".menu-toggle");
  if (!toggle) return;
  bar.classList.add("collapsible");
  toggle.hidden = false;
  toggle.addEventListener("click", () => {
    const open = bar.classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
});
