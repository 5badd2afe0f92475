// The export form's "select all" toggle, bound here instead of an inline
// onchange attribute (the Content-Security-Policy allows no inline script).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input.select-toggle").forEach(function (toggle) {
    toggle.addEventListener("change", onSelectToggleChange);
  });
});
