// Détente console: progressive enhancements only; every page works without this file.
"use strict";
(function () {
  function human(secs) {
    var s = Math.abs(secs);
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s / 60) % 60) + " min";
    return Math.floor(s / 86400) + " days " + Math.floor((s / 3600) % 24) + " h";
  }
  // Due times count down: <span data-due="UNIX">…</span>.
  function tick() {
    var now = Math.floor(Date.now() / 1000);
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var left = parseInt(el.getAttribute("data-due"), 10) - now;
      el.textContent = left >= 0 ? "due in " + human(left) : "overdue by " + human(left);
      el.className = left >= 0 ? "" : "overdue";
    });
  }
  // A STIX bundle file is read into the form's text box: <input type=file data-into=ID>.
  function files() {
    document.querySelectorAll("input[type=file][data-into]").forEach(function (input) {
      input.addEventListener("change", function () {
        var target = document.getElementById(input.getAttribute("data-into"));
        var f = input.files && input.files[0];
        if (!target || !f) return;
        var reader = new FileReader();
        reader.onload = function () { target.value = String(reader.result); };
        reader.readAsText(f);
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 30000);
    files();
  });
})();
