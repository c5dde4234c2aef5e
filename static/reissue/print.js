// The printable slip and notice: show the Print button only where scripts run (CSP: no
// inline handlers), and print on click. Without scripts, Ctrl+P does the same.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print-button");
  if (!button) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    window.print();
  });
});
