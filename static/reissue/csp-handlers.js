// The Content-Security-Policy blocks inline handlers; bind here what import-export's export
// form writes inline (its "Select all" box).
document.addEventListener("DOMContentLoaded", function () {
  if (typeof onSelectToggleChange !== "function") {
    return;
  }
  document.querySelectorAll("input.select-toggle").forEach(function (box) {
    box.addEventListener("change", onSelectToggleChange);
  });
});
