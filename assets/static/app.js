// Corral's small amount of JavaScript. Everything works without it; this
// adds toasts from HX-Trigger headers, the page's one confirmation dialog,
// pausing of auto-refresh while the user is busy, and copy buttons. No eval,
// no inline handlers: the page's CSP forbids both.
(function () {
  "use strict";
  var REFRESH = "corral:refresh"; // views.RefreshEvent
  document.documentElement.classList.add("js"); // shows controls that need us

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

  // ---- Auto-refresh ----------------------------------------------------
  // Elements with data-autorefresh poll through htmx (hx-trigger "every
  // 10s, corral:refresh"). A poll is vetoed while the tab is hidden, and for
  // data-autorefresh="" also while the user is busy: a dialog is open, an
  // action is on its way, or a field in the region is focused or edited, or
  // a <details> in it is open. The refresh never replaces what the user is
  // working on; it resumes when they are done.

  var inflight = []; // XMLHttpRequests of state-changing requests

  function busy() {
    inflight = inflight.filter(function (x) { return x.readyState !== 4; });
    return inflight.length > 0;
  }

  function edited(f) {
    if (f.type === "checkbox" || f.type === "radio") return f.checked !== f.defaultChecked;
    if (f.tagName === "SELECT") {
      for (var i = 0; i < f.options.length; i++) {
        if (f.options[i].selected !== f.options[i].defaultSelected) return true;
      }
      return false;
    }
    return f.value !== f.defaultValue;
  }

  function pauseReason(region, atSwap) {
    if (document.hidden && !atSwap) return "hidden";
    if (region.getAttribute("data-autorefresh") === "visible") return "";
    if (document.querySelector("dialog[open]")) return "dialog";
    if (busy()) return "busy";
    if (region.querySelector("details[open]")) return "details";
    var fields = region.querySelectorAll("input, select, textarea");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === "hidden" || f.disabled) continue;
      if (f === document.activeElement) return "focus";
      if (edited(f)) return "edited";
    }
    return "";
  }

  function isRefresh(e) {
    var elt = e.detail && e.detail.elt;
    return elt && elt.hasAttribute && elt.hasAttribute("data-autorefresh") ? elt : null;
  }

  document.addEventListener("htmx:beforeRequest", function (e) {
    var region = isRefresh(e);
    if (!region) return;
    var why = pauseReason(region, false);
    region.setAttribute("data-refresh", why ? "paused " + why : "loading");
    if (why) e.preventDefault();
  });

  // The user may have started something while the refresh was on its way.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var region = isRefresh(e);
    if (!region || !e.detail.shouldSwap) return;
    var why = pauseReason(region, true);
    if (why) {
      e.detail.shouldSwap = false;
      region.setAttribute("data-refresh", "skipped " + why);
    }
  });

  document.addEventListener("htmx:beforeSend", function (e) {
    var cfg = e.detail.requestConfig;
    if (cfg && cfg.verb && cfg.verb !== "get" && e.detail.xhr) inflight.push(e.detail.xhr);
  });

  function refreshAll() {
    if (!window.htmx) return;
    document.querySelectorAll("[data-autorefresh]").forEach(function (el) { htmx.trigger(el, REFRESH); });
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refreshAll();
  });

  // ---- The page's one confirmation dialog --------------------------------
  // Links with data-confirm-action (lifecycle actions) fill it and post its
  // form to that action; without JavaScript they open a confirmation page.
  // Forms with data-confirm are submitted themselves once confirmed.
  var dlg = document.getElementById("confirm-dialog");
  var dlgForm = dlg && dlg.querySelector("form");
  var pending = null;
  function part(sel) { return dlg.querySelector(sel); }

  function checkVMID() {
    var want = pending && pending.vmid;
    if (!want) return;
    var input = part("#confirm-vmid");
    var typed = input.value.trim();
    var wrong = typed !== "" && want.indexOf(typed) !== 0;
    part("button[type=submit]").disabled = typed !== want;
    input.setAttribute("aria-invalid", wrong ? "true" : "false");
    part("[data-confirm-vmid-hint]").textContent = wrong ? typed + " is not " + want + "." : "";
  }

  // setFields puts the hidden values an action posts besides the token.
  function setFields(fields) {
    var box = part("[data-confirm-fields]");
    box.textContent = "";
    new URLSearchParams(fields || "").forEach(function (v, k) {
      var i = document.createElement("input");
      i.type = "hidden";
      i.name = k;
      i.value = v;
      box.appendChild(i);
    });
  }

  function openConfirm(o) {
    pending = o;
    part("[data-confirm-title]").textContent = o.title || "Are you sure?";
    part("[data-confirm-text]").textContent = o.text || "";
    var ok = part("button[type=submit]");
    ok.textContent = o.label || "Yes, do it";
    ok.className = o.danger ? "btn btn-danger" : "btn btn-primary";
    ok.disabled = false;
    setFields(o.fields);
    var field = part("[data-confirm-vmid-field]");
    var input = part("#confirm-vmid");
    input.value = "";
    input.disabled = !o.vmid;
    field.hidden = !o.vmid;
    part("[data-confirm-vmid]").textContent = o.vmid || "";
    checkVMID();
    dlg.returnValue = "";
    dlg.showModal();
  }

  function submitAction(o) {
    var target = o.target && document.querySelector(o.target);
    if (!window.htmx || !target) {
      dlgForm.action = o.action;
      HTMLFormElement.prototype.submit.call(dlgForm);
      return;
    }
    if (o.trigger) o.trigger.classList.add("htmx-request");
    var done = function () {
      if (o.trigger) o.trigger.classList.remove("htmx-request");
      refreshAll(); // the summary counts changed too
    };
    htmx.ajax("POST", o.action, { source: dlgForm, target: target, swap: "outerHTML" }).then(done, done);
  }

  function confirmed() {
    var o = pending;
    if (!o) { dlg.close(); return; }
    if (o.vmid && part("#confirm-vmid").value.trim() !== o.vmid) { checkVMID(); return; }
    pending = null;
    dlg.close("ok");
    if (o.form) {
      o.form.dataset.confirmed = "1";
      o.form.requestSubmit();
      delete o.form.dataset.confirmed;
      return;
    }
    submitAction(o);
  }

  if (dlg && typeof dlg.showModal === "function") {
    part("[data-confirm-cancel]").addEventListener("click", function () { dlg.close("cancel"); });
    part("#confirm-vmid").addEventListener("input", checkVMID);
    dlg.addEventListener("close", function () {
      if (dlg.returnValue !== "ok") { pending = null; refreshAll(); }
    });
    document.addEventListener("click", function (e) {
      var a = e.target.closest && e.target.closest("a[data-confirm-action]");
      if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      var d = a.dataset;
      openConfirm({
        trigger: a, action: d.confirmAction, target: d.confirmTarget, fields: d.confirmFields,
        title: d.confirmTitle, text: d.confirm, label: d.confirmLabel,
        danger: a.hasAttribute("data-confirm-danger"), vmid: d.confirmVmid
      });
    });
    // The dashboard's cards and rows carry plain links (a[data-act]): the
    // question is worded once per page in <template data-confirm-for> with
    // {name} and {vmid}, filled from the card or row clicked.
    document.addEventListener("click", function (e) {
      var a = e.target.closest && e.target.closest("a[data-act]");
      if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      var t = document.querySelector('template[data-confirm-for="' + a.dataset.act + '"]');
      var item = a.closest("[data-vmid][data-name]");
      if (!t || !item) return;
      e.preventDefault();
      var d = t.dataset, name = item.dataset.name, vmid = item.dataset.vmid;
      var fill = function (s) { return (s || "").split("{name}").join(name).split("{vmid}").join(vmid); };
      openConfirm({
        trigger: a, action: a.pathname, target: "#" + item.id, fields: a.search.slice(1),
        title: fill(d.confirmTitle), text: fill(d.confirm), label: fill(d.confirmLabel),
        danger: t.hasAttribute("data-confirm-danger"), vmid: d.confirmVmid ? vmid : ""
      });
    });
  }

  // Start on a card or row posts the page's one action form to the
  // button's formaction; with htmx only that card or row is swapped.
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button[data-act][formaction]");
    var item = b && b.closest("[data-vmid]");
    if (!b || !item || !window.htmx || !dlgForm) return;
    e.preventDefault();
    var form = b.form;
    var fields = new URLSearchParams(new FormData(form));
    fields.delete("_csrf");
    setFields(fields.toString());
    part("#confirm-vmid").disabled = true; // only Delete sends it
    submitAction({ trigger: b, action: b.formAction, target: "#" + item.id });
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (dlgForm && form === dlgForm) {
      e.preventDefault();
      confirmed();
      return;
    }
    var msg = form.getAttribute && form.getAttribute("data-confirm");
    if (!msg || form.dataset.confirmed === "1") return;
    e.preventDefault();
    e.stopPropagation(); // keep htmx from sending it before the answer
    if (!dlg || typeof dlg.showModal !== "function") {
      if (window.confirm(msg)) { form.dataset.confirmed = "1"; form.requestSubmit(); }
      return;
    }
    var sub = e.submitter;
    openConfirm({
      form: form, text: msg, title: form.dataset.confirmTitle,
      label: form.dataset.confirmLabel || (sub && sub.textContent.trim()), danger: true
    });
  }, true);

  // <a data-clear=".svc-creds"> empties its closest such container; without
  // JavaScript it is a plain link away from what it hides.
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("[data-clear]");
    if (!a) return;
    var box = a.closest(a.getAttribute("data-clear"));
    if (!box) return;
    e.preventDefault();
    box.textContent = "";
  });

  // ---- Copy buttons -------------------------------------------------------
  // <button data-copy="ID"> copies the text of element ID. Clipboard access
  // needs a secure context, which a LAN address is not: fall back to a
  // selection and execCommand there.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var ta = document.createElement("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.className = "offscreen";
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
      ta.remove();
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button[data-copy]");
    if (!b) return;
    var src = document.getElementById(b.getAttribute("data-copy"));
    if (!src) return;
    var label = b.getAttribute("data-label") || b.textContent;
    b.setAttribute("data-label", label);
    copyText(src.textContent).then(function () {
      b.textContent = "Copied";
    }, function () {
      b.textContent = "Select and copy";
    });
    setTimeout(function () { b.textContent = label; }, 2000);
  });
})();
