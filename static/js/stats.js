/* The statistics dashboard refreshes its figures by itself (server-rendered panel, no page reload).
   Offline or on error the last figures stay on screen; the next tick tries again. Once the
   session has ended (401, or a redirect to the login page), refreshing stops and a notice with a
   link to log in again is shown above the last figures. */
(function () {
  "use strict";
  var panel = document.getElementById("stats-panel");
  if (!panel || !window.fetch) { return; }
  var url = panel.getAttribute("data-refresh-url");
  var every = Math.max(parseInt(panel.getAttribute("data-refresh-seconds"), 10) || 30, 1) * 1000;
  var busy = false, stopped = false, timer = null;

  function signedOut() {
    stopped = true;
    window.clearInterval(timer);
    if (document.getElementById("stats-signed-out")) { return; }
    var notice = document.createElement("p"), link = document.createElement("a");
    notice.id = "stats-signed-out";
    notice.className = "flash flash-error signed-out";
    notice.setAttribute("role", "alert");
    notice.appendChild(document.createTextNode(panel.getAttribute("data-signed-out-text") + " "));
    link.href = panel.getAttribute("data-login-url") + "?next=" +
      encodeURIComponent(window.location.pathname + window.location.search);
    link.textContent = panel.getAttribute("data-login-text");
    notice.appendChild(link);
    panel.parentNode.insertBefore(notice, panel);
  }

  function refresh() {
    if (busy || stopped || document.hidden) { return; }
    busy = true;
    fetch(url, { credentials: "same-origin", redirect: "manual", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status === 401 || response.type === "opaqueredirect" || response.redirected) {
          signedOut();
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null) { panel.innerHTML = html; panel.setAttribute("data-refreshed", String(Date.now())); }
      })
      .catch(function () { /* keep the last figures */ })
      .then(function () { busy = false; });
  }
  timer = window.setInterval(refresh, every);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
}());
