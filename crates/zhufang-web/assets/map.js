// zhufang's one map (一张图): one engine for the command, analysis and duty
// views, plus the grid detail map and the GeoJSON import preview. Leaflet is
// embedded from npm; with no tile server configured the grids and their
// labels are drawn on a plain background, so everything works offline.
(function () {
  "use strict";

  var csrf = window.zf.csrf, esc = window.zf.esc;

  // base layer settings from the page (tile URL template, attribution)
  function baseCfg() {
    var m = document.querySelector('meta[name="zf-map"]');
    try { return JSON.parse(m ? m.getAttribute("content") : "{}"); } catch (e) { return {}; }
  }

  function baseMap(el, opts) {
    var cfg = baseCfg();
    var map = L.map(el, Object.assign({ attributionControl: !!(cfg && cfg.tiles), zoomSnap: 0.5 }, opts || {}));
    // heat under the points, points under the grid labels and clusters
    map.createPane("zfHeat").style.zIndex = 410;
    map.createPane("zfPoints").style.zIndex = 450;
    if (cfg && cfg.tiles) {
      L.tileLayer(cfg.tiles, { attribution: cfg.attribution || "", maxZoom: 19 }).addTo(map);
    } else {
      el.classList.add("offline");
    }
    map.setView([30, 114], 5);
    return map;
  }

  // white → amber → red by share of the maximum
  function ramp(v, max) {
    if (!v || !max) return "#eef3fb";
    var t = Math.min(1, v / max);
    var stops = [[255, 241, 204], [250, 173, 20], [207, 19, 34]];
    var a = t < 0.5 ? stops[0] : stops[1], b = t < 0.5 ? stops[1] : stops[2], u = t < 0.5 ? t * 2 : (t - 0.5) * 2;
    var c = [0, 1, 2].map(function (i) { return Math.round(a[i] + (b[i] - a[i]) * u); });
    return "rgb(" + c.join(",") + ")";
  }

  function qs(obj) {
    var p = new URLSearchParams();
    Object.keys(obj).forEach(function (k) { if (obj[k] !== undefined && obj[k] !== null && obj[k] !== "") p.set(k, obj[k]); });
    return p.toString();
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) { if (!r.ok) throw body; return body; });
    });
  }

  // ------------------------------------------------------------- the one map
  function OneMap(el) {
    var cfg = JSON.parse(el.getAttribute("data-config"));
    var form = document.getElementById("map-controls");
    var side = { card: document.getElementById("grid-card"), legend: document.getElementById("map-legend"),
      top: document.getElementById("top-cells"), idle: document.getElementById("idle-grids"), status: document.getElementById("map-status") };
    var map = baseMap(el);
    var gridLayer = L.featureGroup().addTo(map);
    var labelLayer = L.layerGroup().addTo(map);
    var heatLayer = L.featureGroup();
    var itemLayers = {};
    cfg.layers.forEach(function (l) { itemLayers[l.id] = L.featureGroup().addTo(map); });
    var fitted = false, pending = 0, seq = 0;

    function val(name) { var f = form.elements[name]; return f ? f.value : ""; }
    function checked(name, value) {
      var boxes = form.querySelectorAll('input[name="' + name + '"]');
      for (var i = 0; i < boxes.length; i++) if ((value === undefined || boxes[i].value === value) && boxes[i].checked) return true;
      return false;
    }
    function period() {
      return { view: cfg.view, from: val("from"), to: val("to") };
    }
    function busy(d) {
      pending += d;
      el.setAttribute("data-loading", pending > 0 ? "1" : "0");
      if (pending === 0) el.setAttribute("data-loaded", String(++seq));
    }
    function status(text) { if (side.status) side.status.textContent = text; }
    function showError(e) {
      var msg = (e && e.error && (e.error.message + (e.error.fields ? "：" + e.error.fields.map(function (f) { return f.message; }).join("；") : ""))) || String(e);
      status(msg);
    }

    function loadGrids() {
      busy(1);
      var p = period(); p.figure = val("figure");
      return getJSON("/api/v1/map/grids?" + qs(p)).then(function (fc) {
        gridLayer.clearLayers(); labelLayer.clearLayers();
        var max = 0;
        fc.features.forEach(function (f) { max = Math.max(max, f.properties.value); });
        var idle = [];
        L.geoJSON(fc, {
          style: function (f) {
            var isIdle = cfg.view === "duty" && f.properties.activity === 0;
            return { color: isIdle ? "#cf1322" : "#1f4e8c", weight: isIdle ? 2.5 : 1.2, dashArray: isIdle ? "6 4" : null,
              fillColor: ramp(f.properties.value, max), fillOpacity: 0.55,
              className: "zf-grid" + (isIdle ? " zf-idle" : "") };
          },
          onEachFeature: function (f, layer) {
            var pr = f.properties;
            if (cfg.view === "duty" && pr.activity === 0) idle.push(pr);
            layer.on("add", function () {
              var p = layer.getElement && layer.getElement();
              if (p) { p.setAttribute("data-testid", "map-grid"); p.setAttribute("data-grid-id", pr.id); p.setAttribute("data-code", pr.code); }
            });
            layer.on("click", function () { openCard(pr.id); });
            layer.bindTooltip(esc(pr.name) + "<br>" + esc(pr.value), { sticky: true });
            gridLayer.addLayer(layer);
            var c = layer.getBounds().getCenter();
            L.marker(c, { interactive: false, keyboard: false,
              icon: L.divIcon({ className: "zf-grid-label", html: '<span data-testid="grid-label">' + esc(pr.name) + "</span>", iconSize: null }) }).addTo(labelLayer);
          }
        });
        if (!fitted && fc.features.length) { map.fitBounds(gridLayer.getBounds(), { padding: [10, 10] }); fitted = true; }
        legend(fc, max);
        if (side.idle) {
          side.idle.innerHTML = idle.length ? idle.map(function (g) {
            return '<li data-testid="idle-grid"><a href="#" data-grid="' + g.id + '">' + esc(g.name) + '</a> <span class="muted small">' + esc(g.officer_name || "") + "</span></li>";
          }).join("") : '<li class="muted">—</li>';
        }
        if (!checked("grids")) { map.removeLayer(gridLayer); map.removeLayer(labelLayer); }
      }).catch(showError).finally(function () { busy(-1); });
    }

    function legend(fc, max) {
      if (!side.legend) return;
      var sel = form.elements.figure;
      var label = sel ? sel.options[sel.selectedIndex].text : "";
      side.legend.innerHTML = '<div class="legend-title">' + esc(label) + '</div><div class="legend-bar"><span>0</span><i class="ramp"></i><span>' + max + "</span></div>";
    }

    function openCard(id) {
      if (!side.card) return;
      var p = period();
      // as htmx would: an error comes back as a short fragment, not a page
      fetch("/map/grids/" + id + "/card?" + qs(p), { credentials: "same-origin", headers: { "hx-request": "true" } }).then(function (r) { return r.text(); }).then(function (html) {
        side.card.innerHTML = html;
        if (window.innerWidth < 760) side.card.scrollIntoView({ behavior: "smooth" });
      });
    }

    function bboxParam() {
      var b = map.getBounds();
      return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (x) { return x.toFixed(6); }).join(",");
    }

    function loadPoints() {
      var texts = [];
      var jobs = cfg.layers.map(function (l) {
        var group = itemLayers[l.id];
        if (!checked("layer", l.id)) { group.clearLayers(); map.removeLayer(group); return Promise.resolve(); }
        if (!map.hasLayer(group)) group.addTo(map);
        busy(1);
        var p = period(); p.layers = l.id; p.bbox = bboxParam(); p.zoom = Math.round(map.getZoom()); p.category = val("category");
        if (cfg.view === "command" || cfg.view === "duty") { /* all items of the period */ }
        return getJSON("/api/v1/map/points?" + qs(p)).then(function (res) {
          group.clearLayers();
          res.points.forEach(function (pt) {
            var m = L.circleMarker([pt.lat, pt.lon], { pane: "zfPoints", radius: 6, color: "#fff", weight: 1.5, fillColor: pt.color || l.color, fillOpacity: 0.95, className: "zf-point" });
            m.bindTooltip(esc(pt.label));
            m.on("click", function () { window.location.href = pt.url; });
            m.on("add", function () { var e = m.getElement(); if (e) { e.setAttribute("data-testid", "map-point"); e.setAttribute("data-layer", l.id); e.setAttribute("data-url", pt.url); } });
            group.addLayer(m);
          });
          res.clusters.forEach(function (c) {
            var size = c.count < 10 ? 28 : c.count < 100 ? 34 : c.count < 1000 ? 40 : 48;
            var m = L.marker([c.lat, c.lon], { icon: L.divIcon({ className: "zf-cluster", iconSize: [size, size],
              html: '<span data-testid="map-cluster" data-layer="' + l.id + '" style="background:' + l.color + '">' + c.count + "</span>" }) });
            m.on("click", function () { map.setView([c.lat, c.lon], Math.min(map.getZoom() + 2, 18)); });
            group.addLayer(m);
          });
          texts.push(l.label + " " + res.total);
        }).catch(showError).finally(function () { busy(-1); });
      });
      return Promise.all(jobs).then(function () { if (texts.length) status(texts.join(" · ")); });
    }

    function loadHeat() {
      if (!checked("heat")) { heatLayer.clearLayers(); map.removeLayer(heatLayer); if (side.top) side.top.innerHTML = ""; return Promise.resolve(); }
      if (!map.hasLayer(heatLayer)) heatLayer.addTo(map);
      busy(1);
      var p = period(); p.zoom = Math.round(map.getZoom()); p.category = val("category");
      p.layers = cfg.layers.filter(function (l) { return checked("layer", l.id); }).map(function (l) { return l.id; }).join(",") || cfg.layers.map(function (l) { return l.id; }).join(",");
      return getJSON("/api/v1/map/heat?" + qs(p)).then(function (res) {
        heatLayer.clearLayers();
        res.cells.forEach(function (c) {
          var poly = L.polygon(c.boundary, { pane: "zfHeat", stroke: false, fillColor: ramp(c.count, res.max), fillOpacity: 0.35 + 0.45 * (c.count / (res.max || 1)), className: "zf-heat", interactive: true });
          poly.bindTooltip(cfg.labels.count + " " + c.count);
          heatLayer.addLayer(poly);
        });
        if (side.top) {
          side.top.innerHTML = res.cells.slice(0, 10).map(function (c, i) {
            return '<li data-testid="top-cell"><a href="#" data-cell="' + i + '">' + (c.grid ? esc(c.grid.name) : esc(cfg.labels.no_grid)) + "</a> <b>" + c.count + '</b> <span class="muted small">' + c.h3 + "</span></li>";
          }).join("");
          side.top.querySelectorAll("a[data-cell]").forEach(function (a) {
            a.addEventListener("click", function (ev) { ev.preventDefault(); var c = res.cells[+a.getAttribute("data-cell")]; map.setView(c.center, Math.max(map.getZoom(), 14)); });
          });
        }
      }).catch(showError).finally(function () { busy(-1); });
    }

    function reloadAll() { return Promise.all([loadGrids().then(loadPoints), loadHeat()]); }

    form.addEventListener("change", function (ev) {
      var n = ev.target.name;
      if (n === "grids") {
        if (ev.target.checked) { gridLayer.addTo(map); labelLayer.addTo(map); } else { map.removeLayer(gridLayer); map.removeLayer(labelLayer); }
        return;
      }
      if (n === "layer") { loadPoints(); if (checked("heat")) loadHeat(); return; }
      if (n === "heat") { loadHeat(); return; }
      if (n === "figure") { loadGrids(); return; }
      reloadAll();
    });
    form.addEventListener("submit", function (ev) { ev.preventDefault(); reloadAll(); });
    if (side.idle) side.idle.addEventListener("click", function (ev) {
      var a = ev.target.closest("a[data-grid]"); if (!a) return; ev.preventDefault();
      var id = +a.getAttribute("data-grid");
      gridLayer.eachLayer(function (l) { if (l.feature && l.feature.properties.id === id) map.fitBounds(l.getBounds()); });
      openCard(id);
    });
    var t = null;
    map.on("moveend", function () { clearTimeout(t); t = setTimeout(function () { loadPoints(); if (checked("heat")) loadHeat(); }, 200); });
    // labels only when they fit
    map.on("zoomend", function () { el.classList.toggle("labels-off", map.getZoom() < 11); });
    loadGrids().then(function () { return Promise.all([loadPoints(), loadHeat()]); });
    if (cfg.refresh_secs > 0) setInterval(function () { if (!document.hidden) reloadAll(); }, cfg.refresh_secs * 1000);
  }

  // ------------------------------------------------------------- grid detail
  function GridDetail(el) {
    var map = baseMap(el);
    var current = L.geoJSON(JSON.parse(el.getAttribute("data-geometry")), { style: { color: "#1f4e8c", weight: 2, fillOpacity: 0.2, className: "zf-grid" } }).addTo(map);
    map.fitBounds(current.getBounds(), { padding: [10, 10] });
    var old = null;
    document.querySelectorAll("[data-show-geometry]").forEach(function (b) {
      b.addEventListener("click", function () {
        if (old) map.removeLayer(old);
        old = L.geoJSON(JSON.parse(b.getAttribute("data-show-geometry")), { style: { color: "#909399", weight: 2, dashArray: "6 4", fillOpacity: 0.05, className: "zf-old" } }).addTo(map);
        map.fitBounds(current.getBounds().extend(old.getBounds()), { padding: [10, 10] });
      });
    });
  }

  // ------------------------------------------------------------- import preview
  function GridImport(form) {
    var out = document.getElementById("import-result");
    var map = baseMap(document.getElementById("import-map"));
    var preview = L.featureGroup().addTo(map);
    var commit = form.querySelector('[data-import="commit"]');
    var L10n = function (k) { return form.getAttribute("data-l-" + k) || k; };

    // the server's converted shapes when it sent them (a dry run), else the file as uploaded
    function draw(text, bad, converted) {
      preview.clearLayers();
      var fc = converted;
      if (!fc) { try { fc = JSON.parse(text); } catch (e) { return; } }
      (fc.features || []).forEach(function (f, i) {
        try {
          var isBad = bad.indexOf(i) >= 0;
          var layer = L.geoJSON(f, { style: { color: isBad ? "#cf1322" : "#389e0d", weight: isBad ? 3 : 1.5, fillOpacity: 0.15, className: isBad ? "zf-bad" : "zf-ok" } });
          layer.bindTooltip("features[" + i + "] " + esc((f.properties || {}).name || ""));
          preview.addLayer(layer);
        } catch (e) { /* drawn only if Leaflet can; the server's report says why */ }
      });
      if (preview.getLayers().length) map.fitBounds(preview.getBounds(), { padding: [10, 10] });
    }

    function send(dry) {
      var file = form.elements.file.files[0];
      if (!file) { form.elements.file.reportValidity(); return; }
      commit.disabled = true;
      file.text().then(function (text) {
        var url = "/api/v1/grids/import?" + qs({ datum: form.elements.datum.value, dry_run: dry ? "true" : "false" });
        return fetch(url, { method: "POST", credentials: "same-origin", body: text,
          headers: { "content-type": "application/geo+json", "x-csrf-token": form.getAttribute("data-csrf") || csrf() } })
          .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
          .then(function (res) {
            if (!res.ok) {
              var e = res.body.error || {};
              var bad = (e.fields || []).map(function (f) { var m = /^features\[(\d+)\]$/.exec(f.field); return m ? +m[1] : -1; });
              out.innerHTML = '<div class="alert error" data-testid="import-errors"><b>' + esc(L10n("failed")) + "</b>：" + esc(e.message || "") +
                "<ul>" + (e.fields || []).map(function (f) { return '<li data-testid="import-error">' + esc(f.field) + "：" + esc(f.message) + "</li>"; }).join("") + "</ul></div>";
              draw(text, bad);
              return;
            }
            var r = res.body;
            var warn = "";
            if (r.overlaps.length) warn += "<li>" + esc(L10n("overlaps")) + "：" + r.overlaps.map(function (p) { return esc(p[0] + " × " + p[1]); }).join("，") + "</li>";
            if (r.gaps.length) warn += "<li>" + esc(L10n("gaps")) + "：" + r.gaps.map(function (g) { return esc(g.station + " (" + g.gap.lat.toFixed(5) + ", " + g.gap.lon.toFixed(5) + ")"); }).join("，") + "</li>";
            out.innerHTML = '<div class="alert ' + (warn ? "warn" : "ok") + '" data-testid="import-report"><b>' + esc(dry ? L10n("ok") : L10n("done")) + "</b>：" +
              esc(L10n("created")) + " " + r.created + "，" + esc(L10n("updated")) + " " + r.updated + (warn ? "<ul>" + warn + "</ul>" : "") + "</div>" +
              (dry ? "" : '<p class="hint" id="reroute-progress" data-testid="reroute-progress"></p>');
            draw(text, [], r.preview);
            if (dry) commit.disabled = false; else poll();
          });
      }).catch(function (e) { out.innerHTML = '<div class="alert error" data-testid="import-errors">' + esc(String(e)) + "</div>"; });
    }

    function poll() {
      var el = document.getElementById("reroute-progress");
      getJSON("/api/v1/jobs/reroute_items").then(function (j) {
        if (el) el.textContent = L10n("reroute") + "：" + j.done + " / " + j.total + "（" + j.state + "）";
        if (j.state !== "done") setTimeout(poll, 1000);
      }).catch(function () {});
    }

    form.querySelector('[data-import="preview"]').addEventListener("click", function () { send(true); });
    commit.addEventListener("click", function () { send(false); });
    form.elements.file.addEventListener("change", function () { commit.disabled = true; out.innerHTML = ""; });
  }

  // ------------------------------------------------------------- small maps (intake, an incident's page)
  // A map inside a form or a page: neither it nor its zoom buttons are tab stops.
  function smallMap(el) {
    var map = baseMap(el, { keyboard: false });
    el.querySelectorAll("a").forEach(function (a) { a.setAttribute("tabindex", "-1"); });
    return map;
  }

  // The user's grids under the point (not tab stops either, though tooltips
  // make them focusable); `data-grids` on the element says how many once drawn.
  function drawGrids(map, el, style, tooltips) {
    return getJSON("/api/v1/grids").then(function (fc) {
      var g = L.geoJSON(fc, { style: style,
        onEachFeature: tooltips ? function (f, layer) { layer.bindTooltip(esc(f.properties.name)); } : undefined }).addTo(map);
      g.eachLayer(function (l) { var e = l.getElement && l.getElement(); if (e) e.setAttribute("tabindex", "-1"); });
      el.setAttribute("data-grids", String(g.getLayers().length));
      return g;
    });
  }

  // The point itself, a red dot with a test id.
  function pin(map, at, testid) {
    var m = L.circleMarker(at, { radius: 8, color: "#cf1322", weight: 2, fillOpacity: 0.6 }).addTo(map);
    var e = m.getElement && m.getElement();
    if (e) e.setAttribute("data-testid", testid);
    return m;
  }

  // ------------------------------------------------------------- location picker (intake)
  // Click the map, type coordinates, or pick a suggested address (a grid of
  // the station or an address given before): the fields, the marker and the
  // "lands in" line follow each other. No geocoder: it works offline.
  function LocationPicker(form) {
    var el = form.querySelector("[data-pick-map]");
    var lat = form.elements.lat, lon = form.elements.lon, addr = form.elements.address;
    var where = document.getElementById(el.getAttribute("data-where"));
    var list = document.getElementById(addr.getAttribute("list"));
    var L10n = function (k) { return el.getAttribute("data-l-" + k) || k; };
    // not a tab stop: Tab goes from the coordinates straight to the type
    var map = smallMap(el);
    var marker = null, found = [], timer = null, asked = 0;
    drawGrids(map, el, { color: "#1f4e8c", weight: 1, fillOpacity: 0.04 }, true).then(function (g) {
      if (g.getLayers().length && !marker) map.fitBounds(g.getBounds(), { padding: [6, 6] });
    }).catch(function () {});

    function show(la, lo, pan) {
      if (!marker) marker = pin(map, [la, lo], "pick-marker");
      else marker.setLatLng([la, lo]);
      if (pan) map.setView([la, lo], Math.max(map.getZoom(), 14));
      var n = ++asked;
      getJSON("/api/v1/grids/locate?" + qs({ lat: la, lon: lo })).then(function (r) {
        if (n !== asked || !where) return;
        if (r.grid) where.textContent = L10n("where") + "：" + r.station.name + " · " + r.grid.name;
        else if (r.station) where.textContent = L10n("outside") + "：" + r.station.name;
        else where.textContent = "";
      }).catch(function () { if (where) where.textContent = ""; });
    }
    function typed() {
      var a = parseFloat(lat.value), b = parseFloat(lon.value);
      if (isFinite(a) && isFinite(b) && Math.abs(a) <= 90 && Math.abs(b) <= 180) return [a, b];
      return null;
    }
    // the fields changed (typed, or set below): move the marker
    function follow(pan) { var p = typed(); if (p) show(p[0], p[1], pan); }
    function set(la, lo, pan) {
      lat.value = la.toFixed(6);
      lon.value = lo.toFixed(6);
      follow(pan);
      // the near-duplicate check listens for changes on the form
      lat.dispatchEvent(new Event("change", { bubbles: true }));
    }
    map.on("click", function (e) { set(e.latlng.lat, e.latlng.lng, false); });
    [lat, lon].forEach(function (f) { f.addEventListener("input", function () { follow(true); }); });
    addr.addEventListener("input", function () {
      var v = addr.value.trim();
      var hit = found.filter(function (p) { return p.label === v; })[0];
      if (hit) { set(hit.lat, hit.lon, true); return; }
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (!v) { found = []; list.innerHTML = ""; return; }
        getJSON(addr.getAttribute("data-places") + "?" + qs({ q: v, limit: 10 })).then(function (res) {
          found = res;
          list.innerHTML = res.map(function (p) {
            var note = p.kind === "grid" ? L10n("grid") : L10n("address") + " ×" + p.uses;
            return '<option value="' + esc(p.label) + '">' + esc(note) + "</option>";
          }).join("");
        }).catch(function () {});
      }, 150);
    });
    follow(true);
  }

  // ------------------------------------------------------------- one point (an incident's page)
  // Where it is: the point over the user's grids, its own grid outlined.
  function PointMap(el) {
    var at = [parseFloat(el.getAttribute("data-lat")), parseFloat(el.getAttribute("data-lon"))];
    var own = el.getAttribute("data-grid");
    var map = smallMap(el);
    map.setView(at, 15);
    var marker = pin(map, at, "incident-marker");
    drawGrids(map, el, function (f) {
      var mine = f.properties.code === own;
      return { color: "#1f4e8c", weight: mine ? 2.5 : 1, fillOpacity: mine ? 0.08 : 0.02 };
    }, false).then(function () { marker.bringToFront(); }).catch(function () { el.setAttribute("data-grids", "0"); });
  }

  function boot() {
    if (typeof L === "undefined") return;
    document.querySelectorAll("[data-point-map]").forEach(PointMap);
    var picker = document.querySelector("form [data-pick-map]");
    if (picker) LocationPicker(picker.closest("form"));
    var m = document.getElementById("map");
    if (m && m.getAttribute("data-config")) OneMap(m);
    var g = document.getElementById("grid-map");
    if (g) GridDetail(g);
    var f = document.getElementById("grid-import");
    if (f) GridImport(f);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot); else boot();
})();
