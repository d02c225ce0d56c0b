// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Ask before destructive actions: <form data-confirm="...">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.documentElement.classList.add("js");
  // Small screens: the navigation opens from its Menu button (app.css hides it until then).
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest(".nav-toggle");
    if (!toggle) return;
    var nav = document.getElementById(toggle.getAttribute("aria-controls"));
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (nav) nav.classList.toggle("is-open", open);
  });
  // Tables reflow to cards on small screens: each cell is labelled with its column's heading.
  function labelCells(root) {
    root = root || document;
    var tables = Array.prototype.slice.call(root.querySelectorAll("table.table"));
    // A swapped row (a KPI's "Record" form answers with its <tr>) sits inside its table.
    var around = root.closest && root.closest("table.table");
    if (around) tables.push(around);
    tables.forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.querySelector(".visually-hidden") ? "" : th.textContent.trim();
      });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, i) {
          if (heads[i] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", heads[i]);
        });
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { labelCells(); });
  } else {
    labelCells();
  }
  document.addEventListener("htmx:afterSettle", function (event) { labelCells(event.target); });
  // Close open menus when clicking elsewhere or pressing Escape.
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) { if (d !== except) d.removeAttribute("open"); });
  }
  document.addEventListener("click", function (event) { closeMenus(event.target.closest("details.menu")); });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") closeMenus(null); });
})();

// Errors a form answers with (400 invalid, 409 conflict, 422 refused) are swapped where the form is,
// as <meta name="htmx-config"> in base.html says, in debug mode too. Under DEBUG, {% htmx_script %}
// adds django-htmx's debug script, whose listener on document replaces the whole page with any 400,
// 403, 404 or 500 response (useful for a traceback, wrong for a form's errors). Stopping those
// responses' event on its way down, before it reaches that listener, leaves htmx to swap them: htmx
// only heeds preventDefault, not propagation. Other errors still reach the debug script.
(function () {
  "use strict";
  function swappedInPlace(status) {
    var rules = (window.htmx && window.htmx.config.responseHandling) || [];
    for (var i = 0; i < rules.length; i++) {
      // The same test htmx applies to each rule's code.
      if (new RegExp(rules[i].code).test(String(status))) return Boolean(rules[i].swap) && !rules[i].error;
    }
    return false;
  }
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status >= 400 && swappedInPlace(xhr.status)) event.stopPropagation();
  }, true);
})();

// Strategy map: show a level of the tree, open everything before printing.
(function () {
  "use strict";
  function showLevel(level) {
    document.querySelectorAll(".tree details[data-level]").forEach(function (d) {
      var open = Number(d.getAttribute("data-level")) < level;
      if (open !== d.open) d.open = open;
    });
  }
  // The visual map: the zoom buttons scale the drawing, dragging its canvas moves around it (the
  // canvas also scrolls, by wheel, touch and the arrow keys). Without script it scrolls.
  function initVisualMap(root) {
    var canvas = root && root.querySelector("[data-pan]");
    var svg = canvas && canvas.querySelector("svg");
    var tools = root && root.querySelector("[data-zoom-tools]");
    if (!svg || !tools) return;
    tools.hidden = false;
    var width = Number(svg.getAttribute("data-width"));
    var height = Number(svg.getAttribute("data-height"));
    var scale = 1;
    function apply() {
      svg.setAttribute("width", String(Math.round(width * scale)));
      svg.setAttribute("height", String(Math.round(height * scale)));
    }
    tools.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) return;
      if (button.hasAttribute("data-print")) { window.print(); return; }
      var zoom = button.getAttribute("data-zoom");
      if (zoom === "in") scale = Math.min(2, scale * 1.25);
      else if (zoom === "out") scale = Math.max(0.2, scale / 1.25);
      else scale = Math.min(1, (canvas.clientWidth - 8) / width);
      apply();
    });
    var drag = null;
    canvas.addEventListener("pointerdown", function (event) {
      if (event.button !== 0 || event.target.closest("a")) return;
      drag = { x: event.clientX, y: event.clientY, left: canvas.scrollLeft, top: canvas.scrollTop };
      canvas.setPointerCapture(event.pointerId);
      canvas.classList.add("is-dragging");
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drag) return;
      canvas.scrollLeft = drag.left - (event.clientX - drag.x);
      canvas.scrollTop = drag.top - (event.clientY - drag.y);
    });
    function end() { drag = null; canvas.classList.remove("is-dragging"); }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.elt && event.detail.elt.id === "visual-map") initVisualMap(event.detail.elt);
    else if (event.detail.target && event.detail.target.id === "visual-map") initVisualMap(document.getElementById("visual-map"));
  });
  function init() {
    initVisualMap(document.getElementById("visual-map"));
    var tools = document.querySelector("[data-map-tools]");
    if (tools) {
      tools.hidden = false;
      tools.addEventListener("click", function (event) {
        var button = event.target.closest("button");
        if (!button) return;
        if (button.hasAttribute("data-print")) { window.print(); return; }
        showLevel(Number(button.getAttribute("data-show-level")));
      });
    }
  }
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll(".tree details").forEach(function (d) { d.open = true; });
  });
  // Escape cancels an inline edit in the plan editor.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var form = event.target.closest && event.target.closest(".row-form");
    var cancel = form && form.querySelector("[data-cancel]");
    if (cancel) { event.preventDefault(); cancel.click(); }
  });
  // After htmx swaps in a fragment, put the keyboard focus somewhere sensible.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.querySelector) return;
    var focus = target.matches && target.matches("[autofocus]") ? target : target.querySelector("[autofocus]");
    if (focus) focus.focus();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
