// Prospect list: the email button says how many prospects the selection holds.
(function () {
  "use strict";
  function update() {
    var button = document.querySelector("[data-selection-count]");
    if (!button) { return; }
    var count = document.querySelectorAll("input[name=selected]:checked").length;
    button.textContent = count === 0 ? button.getAttribute("data-selection-count")
      : "Email " + count + " prospect" + (count === 1 ? "" : "s");
    button.disabled = count === 0;
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("input[name=selected]")) { update(); }
  });
  document.addEventListener("DOMContentLoaded", update);
})();
