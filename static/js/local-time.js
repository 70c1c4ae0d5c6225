// Times are sent in UTC; each viewer reads them in their own timezone.
(function () {
  "use strict";
  function localize(root) {
    root.querySelectorAll("time[data-local]").forEach(function (element) {
      var when = new Date(element.getAttribute("datetime"));
      if (!isNaN(when)) {
        element.textContent = when.toLocaleString(undefined, {
          weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
          timeZoneName: "short"
        });
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localize(document); });
  document.addEventListener("htmx:afterSwap", function (event) { localize(event.target); });
})();
