// Prospect list: check rows, all on this page, or all N matching the filter (the form then posts
// `all_matching` with the filter, not ids); the buttons say how many they act on. Without
// script the same checkboxes post the same form.
(function () {
  "use strict";
  function update(form) {
    var rows = form.querySelectorAll("input[name=selected]");
    var checked = form.querySelectorAll("input[name=selected]:checked").length;
    var all = form.querySelector("[data-select-all]");
    var page = form.querySelector("[data-select-page]");
    var everything = all !== null && all.checked;
    var count = everything ? Number(form.getAttribute("data-total")) : checked;
    if (page) { page.checked = rows.length > 0 && checked === rows.length; }
    var summary = form.querySelector("[data-selection-summary]");
    if (summary) {
      summary.textContent = everything ? "All " + count + " matching prospects are selected."
        : count === 0 ? "" : count + " selected";
    }
    form.querySelectorAll("[data-needs-selection]").forEach(function (button) {
      button.disabled = count === 0;
    });
    var email = form.querySelector("[data-selection-count]");
    if (email) {
      email.textContent = count === 0 ? email.getAttribute("data-selection-count")
        : "Email " + count + " prospect" + (count === 1 ? "" : "s");
    }
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest("[data-selection]");
    if (!form) { return; }
    var target = event.target;
    if (target.matches("[data-select-page], [data-select-all]")) {
      form.querySelectorAll("input[name=selected]").forEach(function (box) {
        box.checked = target.checked;
      });
      if (target.matches("[data-select-page]") && !target.checked) {
        var all = form.querySelector("[data-select-all]");
        if (all) { all.checked = false; }
      }
    } else if (target.matches("input[name=selected]") && !target.checked) {
      // Leaving one out is no longer "all matching".
      var everything = form.querySelector("[data-select-all]");
      if (everything) { everything.checked = false; }
    }
    update(form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-selection]").forEach(update);
  });
})();
