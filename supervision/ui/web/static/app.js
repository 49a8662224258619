// Progressive enhancement only: every page works without this script.
(function () {
  "use strict";
  // A form submits once: the button is disabled while the page loads the answer.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.method && form.method.toLowerCase() === "post") {
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        setTimeout(function () { b.disabled = true; }, 0);
      });
    }
  });
  // The inbox's filters apply as soon as one changes.
  document.querySelectorAll("form.filters select, form.filters input[type=checkbox]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
})();
