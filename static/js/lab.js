/* The box scanning page (site staff) and the receive/result page (lab). Both call the JSON API
   with the session cookie and the CSRF token; a hand-held scanner "types" the code and Enter. */
(function () {
  "use strict";
  var page = document.currentScript.dataset.page;
  var T = JSON.parse(document.getElementById("lab-messages").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var message = document.getElementById("lab-message");

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, key) { return values[key] === undefined ? "" : values[key]; });
  }
  function say(text, kind) {
    message.textContent = text;
    message.className = "flash flash-" + (kind || "info");
    message.hidden = false;
  }
  function api(method, url, body) {
    return fetch(url, {
      method: method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf},
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return {ok: response.ok, status: response.status, data: data}; });
    }, function () { return {ok: false, status: 0, data: {error: {message: T.offline}}}; });
  }
  function onEnter(input, action) {
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); action(); }
    });
  }
  function addLine(list, text, kind) {
    var item = document.createElement("li");
    item.textContent = text;
    item.className = "scan-" + kind;
    list.insertBefore(item, list.firstChild);
  }
  function enc(code) { return encodeURIComponent(code.trim()); }

  if (page === "boxes") {
    var boxInput = document.getElementById("box-code"), tubeInput = document.getElementById("tube-code");
    var start = document.getElementById("box-start"), work = document.getElementById("box-work");
    var list = document.getElementById("box-tubes"), current = null;

    var show = function (box) {
      current = box;
      document.getElementById("box-title").textContent = box.code;
      document.getElementById("box-status").textContent = T["status_" + box.status] || box.status;
      document.getElementById("box-count").textContent = box.tube_count;
      if (box.tubes) {
        list.innerHTML = "";
        box.tubes.forEach(function (t) { addLine(list, t.code, "ok"); });
      }
      start.hidden = true;
      work.hidden = false;
      var open = box.status === "open";
      tubeInput.disabled = !open;
      document.getElementById("tube-add").disabled = !open;
      document.getElementById("box-handover").disabled = !open;
      if (open) { tubeInput.focus(); } else { say(T.not_open, "error"); }
    };
    var openBox = function () {
      var code = boxInput.value.trim();
      if (!code) { return; }
      api("POST", "/api/v1/boxes", {box_code: code}).then(function (r) {
        if (r.ok) { show(r.data); message.hidden = true; return; }
        if (r.data.error.code !== "box_exists") { say(r.data.error.message, "error"); return; }
        api("GET", "/api/v1/boxes/" + enc(code)).then(function (again) {
          if (again.ok) { show(again.data); } else { say(again.data.error.message, "error"); }
        });
      });
    };
    var addTube = function () {
      var code = tubeInput.value.trim();
      if (!code || !current) { return; }
      api("POST", "/api/v1/boxes/" + enc(current.code) + "/tubes", {tube_code: code}).then(function (r) {
        tubeInput.value = "";
        tubeInput.focus();
        if (!r.ok) { say(r.data.error.message, "error"); return; }
        if (document.getElementById("box-count").textContent !== String(r.data.box.tube_count)) {
          addLine(list, r.data.tube.code, "ok");
        }
        document.getElementById("box-count").textContent = r.data.box.tube_count;
        current.tube_count = r.data.box.tube_count;
        say(fill(T.added, {code: r.data.tube.code}), "success");
      });
    };
    onEnter(boxInput, openBox);
    onEnter(tubeInput, addTube);
    document.getElementById("box-open").addEventListener("click", openBox);
    document.getElementById("tube-add").addEventListener("click", addTube);
    document.getElementById("box-handover").addEventListener("click", function () {
      if (!current || !window.confirm(fill(T.confirm_handover, {code: current.code}))) { return; }
      api("POST", "/api/v1/boxes/" + enc(current.code) + "/handover").then(function (r) {
        if (!r.ok) { say(r.data.error.message, "error"); return; }
        show(r.data);
        say(fill(T.handed_over, {code: r.data.code, n: r.data.tube_count}), "success");
      });
    });
    document.getElementById("box-next").addEventListener("click", function () {
      current = null;
      list.innerHTML = "";
      work.hidden = true;
      start.hidden = false;
      boxInput.value = "";
      message.hidden = true;
      boxInput.focus();
    });
  }

  if (page === "receive") {
    var boxField = document.getElementById("receive-code"), tubeField = document.getElementById("result-tube");
    var log = document.getElementById("result-log");
    var receive = function () {
      var code = boxField.value.trim();
      if (!code) { return; }
      api("POST", "/api/v1/boxes/" + enc(code) + "/receive").then(function (r) {
        boxField.value = "";
        if (!r.ok) { say(r.data.error.message, "error"); boxField.focus(); return; }
        say(fill(T.received, {code: r.data.code, n: r.data.tubes_received}), "success");
        tubeField.focus();
      });
    };
    var record = function () {
      var code = tubeField.value.trim();
      if (!code) { return; }
      var result = document.querySelector('input[name="result"]:checked').value;
      var correct = document.getElementById("result-correct").checked;
      api("POST", "/api/v1/results", {results: [{tube_code: code, result: result}], correct: correct}).then(function (r) {
        tubeField.value = "";
        tubeField.focus();
        if (!r.ok) { say(r.data.error.message, "error"); return; }
        var d = r.data, values = {code: code, result: T[result]};
        if (d.rejected.length) { addLine(log, d.rejected[0].message, "error"); say(d.rejected[0].message, "error"); return; }
        if (d.unknown.length) { addLine(log, fill(T.unknown, values), "error"); say(fill(T.unknown, values), "error"); return; }
        var key = d.updated ? "updated" : (d.corrected ? "corrected" : "unchanged");
        var text = fill(T[key], values);
        if (d.positives.length) { text += " " + fill(T.flagged, {n: d.positives[0].residents.length}); }
        addLine(log, text, result === "negative" ? "ok" : "alert");
        say(text, result === "negative" ? "success" : "error");
      });
    };
    onEnter(boxField, receive);
    onEnter(tubeField, record);
    document.getElementById("receive-go").addEventListener("click", receive);
    document.getElementById("result-go").addEventListener("click", record);
  }
})();
