// Switch the language as soon as one is chosen (a script file, so a strict CSP allows it).
document.addEventListener("DOMContentLoaded", function () {
  var select = document.getElementById("language-select");
  if (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  }
});
