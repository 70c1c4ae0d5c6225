// Stage editor: clicking a token inserts it where the cursor was in the subject or body.
(function () {
  "use strict";
  var last = null;
  document.addEventListener("focusin", function (event) {
    if (event.target.matches("[data-token-target]")) { last = event.target; }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-token]");
    if (!button) { return; }
    event.preventDefault();
    var field = last || document.querySelector("[data-token-target]");
    if (!field) { return; }
    var token = button.getAttribute("data-token");
    var start = field.selectionStart || 0;
    var end = field.selectionEnd || 0;
    field.value = field.value.slice(0, start) + token + field.value.slice(end);
    field.focus();
    field.setSelectionRange(start + token.length, start + token.length);
  });
})();
