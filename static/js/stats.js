/* The statistics dashboard refreshes its figures by itself (server-rendered panel, no page reload).
   Offline or on error the last figures stay on screen; the next tick tries again. */
(function () {
  "use strict";
  var panel = document.getElementById("stats-panel");
  if (!panel || !window.fetch) { return; }
  var url = panel.getAttribute("data-refresh-url");
  var every = Math.max(parseInt(panel.getAttribute("data-refresh-seconds"), 10) || 30, 1) * 1000;
  var busy = false;
  function refresh() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null) { panel.innerHTML = html; panel.setAttribute("data-refreshed", String(Date.now())); }
      })
      .catch(function () { /* keep the last figures */ })
      .then(function () { busy = false; });
  }
  setInterval(refresh, every);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
}());
