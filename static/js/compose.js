// Compose page: a time to send is read in the writer's own timezone.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var field = document.querySelector("#compose input[name=timezone]");
    if (field && !field.value && window.Intl) {
      field.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    }
  });
})();
