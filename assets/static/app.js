// Corral's small amount of JavaScript. Everything works without it; this adds
// toasts from HX-Trigger headers and confirmation dialogs.
(function () {
  "use strict";
  function toast(detail) {
    var box = document.getElementById("toasts");
    if (!box || !detail) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (detail.level || "info");
    el.setAttribute("role", "status");
    el.textContent = detail.message || String(detail);
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 6000);
  }
  document.addEventListener("toast", function (e) { toast(e.detail); });

  // <form data-confirm="Delete node pve1?"> asks before submitting, in a real
  // dialog when the browser has one.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var msg = form.getAttribute && form.getAttribute("data-confirm");
    if (!msg || form.dataset.confirmed === "1") return;
    e.preventDefault();
    e.stopPropagation(); // keep htmx from sending it before the answer
    var dlg = document.getElementById("confirm-dialog");
    if (!dlg || !dlg.showModal) {
      if (window.confirm(msg)) { form.dataset.confirmed = "1"; form.requestSubmit(); }
      return;
    }
    dlg.querySelector("[data-confirm-text]").textContent = msg;
    dlg.returnValue = "";
    dlg.onclose = function () {
      if (dlg.returnValue === "ok") { form.dataset.confirmed = "1"; form.requestSubmit(); delete form.dataset.confirmed; }
    };
    dlg.showModal();
  }, true);
})();
