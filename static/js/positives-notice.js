/* New positive or invalid pools for coordinators and admins, without reloading: polls
   GET /api/v1/positives/notice every data-interval seconds (30 by default) and shows a banner.
   The server keeps, per user, the newest pool on the list when they last opened it, and counts
   the pools flagged after it ("new"), or every open pool of their area until they have opened
   the list once ("open"); so the banner stays on every page, on every device of that user,
   until the list is looked at. Each answer handled is counted in body[data-notice-checks] (tests
   wait for it instead of for time). */
(function () {
  "use strict";
  var script = document.currentScript;
  var interval = Math.max(1, parseInt(script.dataset.interval || "30", 10)) * 1000;
  var onList = document.body.classList.contains("positives-page");
  var banner = null;

  function show(count, basis) {
    if (!banner) {
      banner = document.createElement("div");
      banner.id = "positives-notice";
      banner.className = "notice-banner";
      banner.setAttribute("role", "alert");
      var text = document.createElement("span"), link = document.createElement("a");
      link.href = script.dataset.listUrl;
      link.textContent = onList ? script.dataset.reloadText : script.dataset.linkText;
      banner.appendChild(text);
      banner.appendChild(document.createTextNode(" "));
      banner.appendChild(link);
      var main = document.querySelector("main") || document.body;
      main.insertBefore(banner, main.firstChild);
    }
    var template = basis === "open" ? script.dataset.openText : script.dataset.text;
    banner.firstChild.textContent = template.replace("__N__", count);
  }
  function hide() { if (banner) { banner.remove(); banner = null; } }

  function poll() {
    fetch(script.dataset.noticeUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        if (body.count > 0) { show(body.count, body.basis); } else { hide(); }
        document.body.dataset.noticeChecks = String(Number(document.body.dataset.noticeChecks || 0) + 1);
      })
      .catch(function () { /* offline: try again at the next tick */ });
  }
  poll();
  window.setInterval(poll, interval);
})();
