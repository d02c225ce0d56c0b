// Preselect the browser's time zone in a new form's time zone list: <select data-timezone-preset>.
// Without this file the list says UTC; a zone the list does not offer leaves it so.
(function () {
  "use strict";
  function preset() {
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (error) {
      return;
    }
    if (!zone) return;
    document.querySelectorAll("select[data-timezone-preset]").forEach(function (select) {
      var offered = Array.prototype.some.call(select.options, function (option) { return option.value === zone; });
      if (offered) select.value = zone;
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", preset);
  else preset();
})();
