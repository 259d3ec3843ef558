/* New positive or invalid pools for coordinators and admins, without reloading: polls
   GET /api/v1/positives/notice?since=<last seen> every data-interval seconds (30 by default)
   and shows a banner. "Last seen" is the server's time when the positives list was last opened
   (kept in localStorage), so the banner stays on every page until the list is looked at. */
(function () {
  "use strict";
  var script = document.currentScript, KEY = "positivesSeenAt";
  var interval = Math.max(1, parseInt(script.dataset.interval || "30", 10)) * 1000;
  var onList = document.body.classList.contains("positives-page");
  var firstPoll = true, banner = null;

  function show(count) {
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
    banner.firstChild.textContent = script.dataset.text.replace("__N__", count);
  }
  function hide() { if (banner) { banner.remove(); banner = null; } }

  function poll() {
    var since = null;
    try { since = window.localStorage.getItem(KEY); } catch (e) { since = null; }
    var url = script.dataset.noticeUrl + (since ? "?since=" + encodeURIComponent(since) : "");
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}}).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (body) {
      if (!body) { return; }
      if (!since || (onList && firstPoll)) {   // the list on screen is up to date
        try { window.localStorage.setItem(KEY, body.now); } catch (e) { /* private mode */ }
        hide();
      } else if (body.count > 0) {
        show(body.count);
      } else {
        hide();
      }
      firstPoll = false;
    }).catch(function () { /* offline: try again at the next tick */ });
  }
  poll();
  window.setInterval(poll, interval);
})();
