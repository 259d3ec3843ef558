// Roster upload: read the header (mapping step), upload with a progress bar for review, show the
// check report (the preview), then accept or discard the roster.
(function () {
  "use strict";
  var box = document.getElementById("upload");
  if (!box) return;
  var messages = JSON.parse(document.getElementById("roster-messages").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var fileInput = document.getElementById("roster-file");
  var nameInput = document.getElementById("roster-name");
  var button = document.getElementById("roster-upload");
  var errorBox = document.getElementById("upload-error");
  var selects = Array.prototype.slice.call(document.querySelectorAll("#mapping select"));
  var INSPECT_BYTES = 64 * 1024;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, key) { return key in values ? values[key] : m; });
  }
  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }
  function errorText(xhr) {
    try { return JSON.parse(xhr.responseText).error.message + " " + Object.values(JSON.parse(xhr.responseText).error.fields || {}).join(" "); }
    catch (e) { return messages.failed; }
  }
  function cell(row, tag, text) {
    var el = document.createElement(tag);
    el.textContent = text;
    row.appendChild(el);
  }
  function isCsv(file) { return !/\.xls[xm]$/i.test(file.name); }  // .xlsx and .xlsm are workbooks
  function withId(template, id) { return template.replace(/\/0(?=\/|$)/, "/" + id); }
  var current = null;  // the roster of the report on screen, pending until accepted

  function inspect(file) {
    var form = new FormData();
    // a CSV's header and first rows are in its first bytes; a workbook must be sent whole
    form.append("file", isCsv(file) ? file.slice(0, INSPECT_BYTES) : file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", box.dataset.inspectUrl);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.onload = function () {
      if (xhr.status !== 200) { showError(errorText(xhr)); return; }
      var data = JSON.parse(xhr.responseText);
      selects.forEach(function (select) {
        while (select.options.length > 1) select.remove(1);
        data.headers.forEach(function (header, index) {
          var option = document.createElement("option");
          option.value = String(index);
          option.textContent = header || "#" + (index + 1);
          select.appendChild(option);
        });
        var guess = data.mapping[select.dataset.field];
        select.value = guess === null || guess === undefined ? "" : String(guess);
      });
      var table = document.getElementById("preview");
      table.textContent = "";
      var head = table.createTHead().insertRow();
      data.headers.forEach(function (h) { cell(head, "th", h); });
      var body = table.createTBody();
      data.rows.forEach(function (r) {
        var tr = body.insertRow();
        r.forEach(function (v) { cell(tr, "td", v); });
      });
      document.getElementById("mapping").hidden = false;
      button.disabled = false;
    };
    xhr.onerror = function () { showError(messages.failed); };
    xhr.send(form);
  }

  function mapping() {
    var result = {};
    selects.forEach(function (select) {
      if (select.value !== "") result[select.dataset.field] = parseInt(select.value, 10);
    });
    return result;
  }

  function report(data) {
    current = data.roster_id;
    var invalid = data.rows_total - data.rows_valid;
    document.getElementById("report-counts").textContent = fill(messages.counts, {
      total: data.rows_total, valid: data.rows_valid, invalid: invalid});
    document.getElementById("report-csv").hidden = invalid === 0;
    document.getElementById("report-errors-csv").href = withId(box.dataset.errorsUrl, data.roster_id);
    var body = document.querySelector("#report-errors tbody");
    body.textContent = "";
    data.errors.forEach(function (e) {
      var tr = body.insertRow();
      cell(tr, "td", e.row); cell(tr, "td", e.column_label); cell(tr, "td", e.message);
    });
    if (invalid > data.errors.length) {
      document.getElementById("report-counts").textContent += " " + messages.more;
    }
    document.getElementById("report").hidden = false;
  }

  function decide(method, url, expected, done) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.onload = function () { if (xhr.status === expected) { done(); } else { showError(errorText(xhr)); } };
    xhr.onerror = function () { showError(messages.failed); };
    xhr.send();
  }
  function accept() {
    if (current === null) return;
    decide("POST", withId(box.dataset.acceptUrl, current), 200, function () {
      window.location.href = withId(box.dataset.rosterUrl, current);
    });
  }
  function discard() {
    if (current === null) return;
    decide("DELETE", withId(box.dataset.apiRosterUrl, current), 204, function () {
      current = null;
      document.getElementById("report").hidden = true;
      document.getElementById("mapping").hidden = true;
      document.getElementById("report-discarded").hidden = false;
      fileInput.value = "";
      button.disabled = true;
    });
  }

  function upload() {
    var file = fileInput.files[0];
    var map = mapping();
    if (!file) return;
    if (!("name" in map) || !("id_number" in map)) { showError(messages.required); return; }
    showError("");
    var form = new FormData();
    form.append("file", file, file.name);
    form.append("name", nameInput.value || file.name.replace(/\.[^.]+$/, ""));
    form.append("region_code", document.getElementById("roster-region").value);
    form.append("mapping", JSON.stringify(map));
    form.append("review", "true");  // pending until the user has seen the report and accepts
    var bar = document.getElementById("progress-bar");
    var label = document.getElementById("progress-text");
    document.getElementById("progress").hidden = false;
    document.getElementById("report").hidden = true;
    document.getElementById("report-discarded").hidden = true;
    button.disabled = true;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", box.dataset.uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.upload.onprogress = function (event) {
      if (!event.lengthComputable) return;
      var percent = Math.round(100 * event.loaded / event.total);
      bar.value = percent;
      label.textContent = fill(messages.uploading, {percent: percent + "%"});
    };
    xhr.upload.onload = function () {
      bar.removeAttribute("value");  // indeterminate while the server checks and loads the rows
      label.textContent = messages.checking;
    };
    xhr.onload = function () {
      button.disabled = false;
      document.getElementById("progress").hidden = true;
      if (xhr.status === 201) { report(JSON.parse(xhr.responseText)); } else { showError(errorText(xhr)); }
    };
    xhr.onerror = function () { button.disabled = false; showError(messages.failed); };
    xhr.send(form);
  }

  fileInput.addEventListener("change", function () {
    showError("");
    document.getElementById("report").hidden = true;
    document.getElementById("report-discarded").hidden = true;
    var file = fileInput.files[0];
    if (file && file.size > Number(box.dataset.maxBytes)) {  // the server would refuse it (413): say so now
      document.getElementById("mapping").hidden = true;
      button.disabled = true;
      showError(messages.too_large);
    } else if (file) {
      if (!nameInput.value) nameInput.value = file.name.replace(/\.[^.]+$/, "");
      inspect(file);
    }
  });
  button.addEventListener("click", upload);
  document.getElementById("report-accept").addEventListener("click", accept);
  document.getElementById("report-discard").addEventListener("click", discard);
}());
