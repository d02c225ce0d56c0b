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
  // Close open menus when clicking elsewhere or pressing Escape.
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) { if (d !== except) d.removeAttribute("open"); });
  }
  document.addEventListener("click", function (event) { closeMenus(event.target.closest("details.menu")); });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") closeMenus(null); });
})();
