// The browser console: an xterm.js terminal joined to the container's shell
// over a WebSocket. The socket opens with a single-use ticket fetched by a
// POST that carries the page's CSRF token. Keystrokes go up as binary
// messages, window sizes as {"cols","rows"} text messages; output comes
// down as binary messages, and one last text message says how the shell
// ended. No eval, no inline handlers: the page's CSP forbids both.
(function () {
  "use strict";

  var encoder = new TextEncoder();
  var current = null; // the console of this page, for window.corralConsole

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function Console(el) {
    this.el = el;
    this.screen = el.querySelector("[data-console-screen]");
    this.status = el.querySelector("[data-console-status]");
    this.reconnect = el.querySelector("[data-console-reconnect]");
    this.ws = null;
    this.term = new window.Terminal({
      cursorBlink: true,
      scrollback: 5000,
      fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
      fontSize: 14,
    });
    this.fit = new window.FitAddon.FitAddon();
    this.term.loadAddon(this.fit);
    this.term.open(this.screen);
    this.fit.fit();

    var self = this;
    this.term.onData(function (d) { self.send(encoder.encode(d)); });
    this.term.onBinary(function (d) {
      var b = new Uint8Array(d.length);
      for (var i = 0; i < d.length; i++) b[i] = d.charCodeAt(i) & 255;
      self.send(b);
    });
    this.term.onResize(function (s) { self.send(JSON.stringify({ cols: s.cols, rows: s.rows })); });
    // Ctrl-C belongs to the shell; copy and paste are Ctrl-Shift-C and -V
    // (and the browser's own menu and shortcuts).
    this.term.attachCustomKeyEventHandler(function (e) {
      if (e.type !== "keydown" || !e.ctrlKey || !e.shiftKey) return true;
      if (e.code === "KeyC" && self.term.hasSelection() && navigator.clipboard) {
        navigator.clipboard.writeText(self.term.getSelection());
        e.preventDefault();
        return false;
      }
      if (e.code === "KeyV" && navigator.clipboard && navigator.clipboard.readText) {
        navigator.clipboard.readText().then(function (t) { self.term.paste(t); });
        e.preventDefault();
        return false;
      }
      return true;
    });
    // The terminal follows its box, which follows the window.
    new ResizeObserver(function () { self.fit.fit(); }).observe(this.screen);
    // Focusing the box (a click, Tab, a test typing into it) focuses the terminal.
    this.screen.setAttribute("tabindex", "0");
    this.screen.addEventListener("focus", function () { self.term.focus(); });
    this.reconnect.addEventListener("click", function () {
      self.term.reset();
      self.connect();
    });
    this.connect();
  }

  Console.prototype.setState = function (state, text) {
    this.el.setAttribute("data-state", state);
    this.status.textContent = text;
    this.reconnect.hidden = state !== "closed";
  };

  Console.prototype.send = function (data) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(data);
  };

  Console.prototype.connect = function () {
    var self = this;
    this.setState("connecting", "Connecting…");
    fetch(this.el.getAttribute("data-ticket-url"), {
      method: "POST",
      headers: { "X-CSRF-Token": csrf() },
      credentials: "same-origin",
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) throw new Error(body.error || "The console could not be opened (" + r.status + ").");
        return body;
      });
    }).then(function (body) {
      self.open(body.url);
    }).catch(function (err) {
      self.setState("closed", err.message);
    });
  };

  Console.prototype.open = function (path) {
    var self = this;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + location.host + path + "&cols=" + this.term.cols + "&rows=" + this.term.rows;
    var ws = new WebSocket(url);
    var ended = false;
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = function () {
      self.setState("open", "Connected.");
      // The window may have changed while the socket opened.
      self.send(JSON.stringify({ cols: self.term.cols, rows: self.term.rows }));
      self.term.focus();
    };
    ws.onmessage = function (e) {
      if (typeof e.data !== "string") {
        self.term.write(new Uint8Array(e.data));
        return;
      }
      ended = true;
      var end = {};
      try { end = JSON.parse(e.data); } catch (_) { /* shown as a plain end */ }
      self.setState("closed", describe(end));
    };
    ws.onclose = function () {
      if (self.ws === ws) self.ws = null;
      if (!ended) self.setState("closed", "The connection to the console closed.");
    };
  };

  // describe says how the shell ended, in words.
  function describe(end) {
    var text;
    if (typeof end.status === "number") {
      text = "The shell ended with exit status " + end.status + ".";
    } else {
      text = "The console closed.";
    }
    if (end.message) text += " " + end.message.charAt(0).toUpperCase() + end.message.slice(1) + ".";
    return text;
  }

  function init(root) {
    var els = (root || document).querySelectorAll("[data-console]");
    for (var i = 0; i < els.length; i++) {
      if (els[i].__console) continue;
      els[i].__console = current = new Console(els[i]);
    }
  }

  // For tests and the curious: what the terminal shows and its size.
  window.corralConsole = {
    text: function () {
      if (!current) return "";
      var buf = current.term.buffer.active, lines = [];
      for (var i = 0; i < buf.length; i++) lines.push(buf.getLine(i).translateToString(true));
      return lines.join("\n");
    },
    size: function () { return current ? [current.term.cols, current.term.rows] : [0, 0]; },
  };

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
