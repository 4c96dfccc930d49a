// Corral's form helpers for the wizard and the template form. Everything
// works without them: the server checks the same rules and explains.
(function () {
  "use strict";
  // <input type="checkbox" data-needs="unprivileged"> only makes sense while
  // #unprivileged is ticked: it is greyed out and off meanwhile, and gets its
  // own state back when that is ticked again (as Proxmox's dialog does).
  function syncNeeds() {
    document.querySelectorAll("input[data-needs]").forEach(function (el) {
      var need = el.dataset.needs && document.getElementById(el.dataset.needs);
      if (!need) return;
      var off = !need.checked;
      if (off && !el.disabled) { el.dataset.was = el.checked ? "1" : ""; el.checked = false; }
      if (!off && el.disabled) { el.checked = el.dataset.was === "1"; }
      el.disabled = off;
    });
  }
  document.addEventListener("change", function (e) {
    if (e.target && e.target.type === "checkbox") syncNeeds();
  });
  document.addEventListener("DOMContentLoaded", syncNeeds);
  document.addEventListener("htmx:afterSettle", syncNeeds);
})();
