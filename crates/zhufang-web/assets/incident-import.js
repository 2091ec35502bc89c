// 导入历史警情: reads the CSV in the browser, cuts it into batches of whole
// records (a quoted field may span lines), sends each batch with the header to
// POST /api/v1/incidents/import and moves the progress bar after each. The
// server's line numbers are mapped back to the file's; numbers already
// imported are skipped by the server, so a file can be sent again.
(function () {
  "use strict";
  var csrf = window.zf.csrf, esc = window.zf.esc;

  // [{text, line}] of whole records: the header first; `line` is where it starts (1-based)
  function records(text) {
    var out = [], start = 0, line = 1, startLine = 1, quoted = false;
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (c === '"') quoted = !quoted;
      else if (c === "\n") {
        if (!quoted) {
          var rec = text.slice(start, i).replace(/\r$/, "");
          if (rec.trim() !== "") out.push({ text: rec, line: startLine });
          start = i + 1;
          startLine = line + 1;
        }
        line++;
      }
    }
    var last = text.slice(start).replace(/\r$/, "");
    if (last.trim() !== "") out.push({ text: last, line: startLine });
    return out;
  }

  function Importer(form) {
    var L10n = function (k) { return form.getAttribute("data-l-" + k) || k; };
    var box = document.querySelector('[data-testid="import-progress-box"]');
    var bar = box.querySelector("progress");
    var status = box.querySelector('[data-testid="import-status"]');
    var out = document.getElementById("import-report");
    var button = form.querySelector('[type="submit"]');

    function report(sum, errors, failed) {
      var html = '<div class="alert ' + (failed ? "error" : errors.length ? "warn" : "ok") + '" data-testid="import-summary">' +
        (failed ? "<b>" + esc(L10n("failed")) + "</b>：" + esc(failed) + "<br>" : "") +
        esc(L10n("rows")) + ' <b data-testid="import-rows">' + sum.rows + "</b>，" +
        esc(L10n("imported")) + ' <b data-testid="import-imported">' + sum.imported + "</b>，" +
        esc(L10n("existing")) + ' <b data-testid="import-existing">' + sum.existing + "</b>，" +
        esc(L10n("errors")) + ' <b data-testid="import-error-count">' + errors.length + "</b></div>";
      if (errors.length) {
        html += '<div class="table-wrap"><table class="table compact"><thead><tr><th>' + esc(L10n("line")) + "</th><th>" +
          esc(L10n("field")) + "</th><th>" + esc(L10n("message")) + "</th></tr></thead><tbody>" +
          errors.map(function (e) {
            return '<tr data-testid="import-error" data-line="' + e.line + '"><td>' + e.line + "</td><td>" + esc(e.field) + "</td><td>" + esc(e.message) + "</td></tr>";
          }).join("") + "</tbody></table></div>";
      }
      out.innerHTML = html;
    }

    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var file = form.elements.file.files[0];
      if (!file) { form.elements.file.reportValidity(); return; }
      var size = Math.max(1, parseInt(form.getAttribute("data-batch"), 10) || 500);
      button.disabled = true;
      box.hidden = false;
      bar.value = 0;
      status.textContent = L10n("reading");
      out.innerHTML = "";
      file.text().then(function (text) {
        var all = records(text.replace(/^\uFEFF/, ""));
        var header = all.shift();
        var sum = { rows: 0, imported: 0, existing: 0 }, errors = [];
        if (!header || !all.length) { report(sum, errors, L10n("empty")); return; }
        var total = all.length, done = 0;
        function next() {
          if (done >= total) {
            bar.value = 1;
            status.textContent = L10n("done") + " " + total + " / " + total;
            report(sum, errors, "");
            return;
          }
          var batch = all.slice(done, done + size);
          var body = header.text + "\n" + batch.map(function (r) { return r.text; }).join("\n") + "\n";
          // the batch's file lines: header on 1, then each record's lines in order
          var lineMap = [], at = 2;
          batch.forEach(function (r) {
            var n = r.text.split("\n").length;
            for (var k = 0; k < n; k++) lineMap[at + k] = r.line + k;
            at += n;
          });
          status.textContent = L10n("sending") + " " + done + " / " + total;
          return fetch("/api/v1/incidents/import", {
            method: "POST", credentials: "same-origin", body: body,
            headers: { "content-type": "text/csv; charset=utf-8", "x-csrf-token": csrf(), accept: "application/json" },
          }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); }).then(function (res) {
            if (!res.ok) {
              var e = res.body.error || {};
              var msg = (e.message || "") + (e.fields ? "：" + e.fields.map(function (f) { return f.message; }).join("；") : "");
              report(sum, errors, msg);
              return;
            }
            var r = res.body;
            sum.rows += r.rows; sum.imported += r.imported; sum.existing += r.existing;
            r.errors.forEach(function (e) { errors.push({ line: lineMap[e.line] || e.line, field: e.field, message: e.message }); });
            done += batch.length;
            bar.value = done / total;
            return next();
          });
        }
        return next();
      }).catch(function (e) { report({ rows: 0, imported: 0, existing: 0 }, [], String(e)); })
        .finally(function () { button.disabled = false; });
    });
  }

  function boot() {
    var f = document.getElementById("incident-import");
    if (f) Importer(f);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot); else boot();
})();
