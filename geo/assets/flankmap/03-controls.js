  /* ---------- controls ---------- */

  function iconButton(container, title, svg, onClick) {
    var a = L.DomUtil.create("a", "fm-button", container);
    a.href = "#";
    a.title = title;
    a.setAttribute("role", "button");
    a.setAttribute("aria-label", title);
    a.innerHTML = svg;  // constant SVG from this file
    L.DomEvent.on(a, "click", L.DomEvent.stop).on(a, "click", onClick);
    return a;
  }

  var ICON_RULER = '<svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true" focusable="false">' +
    '<g fill="none" stroke="#333" stroke-width="1.6"><rect x="1.5" y="6" width="15" height="6" ' +
    'rx="1"/><path d="M4.5 6v3M7.5 6v2M10.5 6v3M13.5 6v2"/></g></svg>';
  var ICON_FULL = '<svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true" focusable="false">' +
    '<path d="M2 7V2h5M11 2h5v5M16 11v5h-5M7 16H2v-5" fill="none" stroke="#333" ' +
    'stroke-width="1.8"/></svg>';
  var ICON_EXIT = '<svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true" focusable="false">' +
    '<path d="M7 2v5H2M16 7h-5V2M11 16v-5h5M2 11h5v5" fill="none" stroke="#333" ' +
    'stroke-width="1.8"/></svg>';
  var ICON_SEARCH = '<svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true" focusable="false">' +
    '<circle cx="7.5" cy="7.5" r="5" fill="none" stroke="#333" stroke-width="1.8"/>' +
    '<path d="M11.3 11.3L16 16" stroke="#333" stroke-width="2"/></svg>';

  /* Measure geodesic distances: click points on the map, double-click or Esc to finish. A
     click on a site (or within 14 px of one) starts or ends the line exactly there. */
  var MeasureControl = L.Control.extend({
    options: { position: "topleft" },
    initialize: function (state) { this._state = state; },
    onAdd: function (map) {
      this._map = map;
      var box = L.DomUtil.create("div", "leaflet-bar fm-measure");
      this._button = iconButton(box, "Measure a geodesic distance (click points or sites; " +
        "double-click or Esc to finish)", ICON_RULER, this.toggle.bind(this));
      this._button.setAttribute("aria-pressed", "false");
      this._readout = el("div", "fm-measure-readout", null, box);
      this._readout.setAttribute("role", "status");
      this._readout.style.display = "none";
      this._layer = L.featureGroup().addTo(map);
      this._points = [];
      L.DomEvent.disableClickPropagation(box);
      return box;
    },
    active: function () { return Boolean(this._active); },
    toggle: function () { if (this._active) { this.stop(); } else { this.start(); } },
    start: function () {
      this._active = true;
      this.clear();
      this._map.closePopup();
      L.DomUtil.addClass(this._button, "fm-active");
      this._button.setAttribute("aria-pressed", "true");
      L.DomUtil.addClass(this._map.getContainer(), "fm-measuring");
      this._map.doubleClickZoom.disable();
      this._map.on("click", this._onClick, this);
      this._map.on("dblclick", this.stop, this);
      L.DomEvent.on(document, "keydown", this._onKey, this);
      this._show("Click on the map or on a site to start measuring");
    },
    stop: function () {
      this._active = false;
      L.DomUtil.removeClass(this._button, "fm-active");
      this._button.setAttribute("aria-pressed", "false");
      L.DomUtil.removeClass(this._map.getContainer(), "fm-measuring");
      this._map.off("click", this._onClick, this);
      this._map.off("dblclick", this.stop, this);
      L.DomEvent.off(document, "keydown", this._onKey, this);
      this._map.doubleClickZoom.enable();
      if (this._points.length < 2) { this.clear(); }
    },
    clear: function () {
      this._points = [];
      this._names = [];
      this._layer.clearLayers();
      this._readout.style.display = "none";
    },
    _onKey: function (e) { if (e.key === "Escape") { this.stop(); } },
    _onClick: function (e) {
      var hit = nearestSite(this._state, e.containerPoint, 14);
      if (hit) { this.addPoint(hit.latlng, hit.name); } else { this.addPoint(e.latlng, null); }
    },
    addPoint: function (latlng, name) {
      var pts = this._points;
      latlng = L.latLng(latlng);
      pts.push([latlng.lat, latlng.lng]);
      this._names.push(name || null);
      L.circleMarker(latlng, { radius: name ? 6 : 4, color: "#111", weight: 2,
        fillColor: name ? "#ffe08a" : "#fff", fillOpacity: 1, interactive: false }).addTo(this._layer);
      if (pts.length > 1) {
        var a = pts[pts.length - 2], b = pts[pts.length - 1];
        L.polyline(greatCircle(a, b), { color: "#111", weight: 2.5, dashArray: "6 4",
          interactive: false }).addTo(this._layer);
      }
      var total = this.total(), names = this._names.filter(Boolean);
      var text = pts.length < 2 ? (name ? "From " + name + ": click the next point" : "Click the next point") :
        "Total " + formatKm(total) + " (geodesic, WGS84)";
      if (pts.length > 1 && names.length) { text += " · " + names.join(" → "); }
      this._show(text);
      return total;
    },
    points: function () { return this._points.slice(); },
    total: function () {
      var pts = this._points, sum = 0;
      for (var i = 1; i < pts.length; i++) {
        sum += geodesicDistance(pts[i - 1][0], pts[i - 1][1], pts[i][0], pts[i][1]);
      }
      return sum;
    },
    _show: function (text) {
      this._readout.textContent = text;
      this._readout.style.display = "block";
    }
  });

  /* The site drawn nearest to a container point (markers and canvas points), within px. */
  function nearestSite(state, point, px) {
    var map = state.map, best = null, bestD = px * px;
    state.markers.forEach(function (marker) {
      if (!map.hasLayer(marker)) { return; }
      var q = map.latLngToContainerPoint(marker.getLatLng());
      var d = (q.x - point.x) * (q.x - point.x) + (q.y - point.y) * (q.y - point.y);
      if (d < bestD) {
        bestD = d;
        best = { latlng: marker.getLatLng(), name: marker.fmSite.layer.p.names[marker.fmSite.i] };
      }
    });
    state.clouds.forEach(function (cloud) {
      if (!map.hasLayer(cloud)) { return; }
      var i = cloud.nearest(point);
      if (i >= 0) {
        var ll = L.latLng(cloud._lat[i], cloud._lon[i]), q = map.latLngToContainerPoint(ll);
        var d = (q.x - point.x) * (q.x - point.x) + (q.y - point.y) * (q.y - point.y);
        if (d < bestD) { bestD = d; best = { latlng: ll, name: cloud._layer.p.names[i] }; }
      }
    });
    return best;
  }

  var FullscreenControl = L.Control.extend({
    options: { position: "topleft" },
    onAdd: function (map) {
      this._map = map;
      var box = L.DomUtil.create("div", "leaflet-bar fm-fullscreen");
      this._button = iconButton(box, "Full screen", ICON_FULL, this.toggle.bind(this));
      var self = this;
      L.DomEvent.on(document, "fullscreenchange", function () {
        self._set(document.fullscreenElement === map.getContainer());
      });
      return box;
    },
    toggle: function () {
      var container = this._map.getContainer(), self = this;
      if (document.fullscreenElement) {
        document.exitFullscreen();
      } else if (L.DomUtil.hasClass(container, "fm-pseudo-fullscreen")) {
        L.DomUtil.removeClass(container, "fm-pseudo-fullscreen");
        this._set(false);
      } else if (container.requestFullscreen && document.fullscreenEnabled) {
        container.requestFullscreen().catch(function () { self._pseudo(); });
      } else {
        this._pseudo();
      }
    },
    _pseudo: function () {
      L.DomUtil.addClass(this._map.getContainer(), "fm-pseudo-fullscreen");
      this._set(true);
    },
    _set: function (on) {
      this._button.innerHTML = on ? ICON_EXIT : ICON_FULL;  // constant SVG
      this._button.title = on ? "Exit full screen" : "Full screen";
      this._button.setAttribute("aria-label", this._button.title);
      this._map.invalidateSize();
    }
  });

  /* Search the sites by name, id or alias (and the named areas and towns). */
  var SearchControl = L.Control.extend({
    options: { position: "topleft" },
    initialize: function (state) { this._state = state; },
    onAdd: function () {
      var box = L.DomUtil.create("div", "leaflet-bar fm-search");
      var self = this;
      this._box = box;
      this._button = iconButton(box, "Search the sites", ICON_SEARCH, function () {
        self.toggle();
      });
      this._button.setAttribute("aria-expanded", "false");
      var panel = this._panel = el("div", "fm-search-panel", null, box);
      panel.id = "fm-search-panel-" + L.stamp(this);
      this._button.setAttribute("aria-controls", panel.id);
      var input = this._input = el("input", "fm-search-input", null, panel);
      input.type = "search";
      input.placeholder = "Site, id or alias";
      input.setAttribute("aria-label", "Search the sites by name, id or alias");
      input.setAttribute("autocomplete", "off");
      var list = this._list = el("ul", "fm-search-results", null, panel);
      list.setAttribute("aria-label", "Search results");
      L.DomEvent.on(input, "input", this._update, this);
      L.DomEvent.on(input, "keydown", function (e) {
        if (e.key === "Escape") { self.close(); self._button.focus(); }
        if (e.key === "Enter") {
          L.DomEvent.preventDefault(e);
          var first = list.querySelector("button");
          if (first) { first.click(); }
        }
        if (e.key === "ArrowDown") {
          L.DomEvent.preventDefault(e);
          var next = list.querySelector("button");
          if (next) { next.focus(); }
        }
      });
      L.DomEvent.on(list, "keydown", function (e) {
        var items = Array.prototype.slice.call(list.querySelectorAll("button"));
        var k = items.indexOf(document.activeElement);
        if (e.key === "ArrowDown" && k < items.length - 1) { L.DomEvent.preventDefault(e); items[k + 1].focus(); }
        if (e.key === "ArrowUp") { L.DomEvent.preventDefault(e); (k > 0 ? items[k - 1] : input).focus(); }
        if (e.key === "Escape") { self.close(); self._button.focus(); }
      });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    },
    toggle: function () { if (this._open) { this.close(); } else { this.open(); } },
    open: function () {
      this._open = true;
      L.DomUtil.addClass(this._box, "fm-search-open");
      this._button.setAttribute("aria-expanded", "true");
      this._input.focus();
      this._update();
    },
    close: function () {
      this._open = false;
      L.DomUtil.removeClass(this._box, "fm-search-open");
      this._button.setAttribute("aria-expanded", "false");
    },
    /* The entries that match a text: those that start with it first, sites before towns. */
    find: function (text) {
      var q = fold(text).trim();
      if (!q) { return []; }
      while (this._state.searchLater.length) { this._state.searchLater.shift()(); }
      var scored = [];
      var entries = this._state.search.concat(this._towns());
      var state = this._state;
      entries.forEach(function (entry, order) {
        if (entry.site && !activeOn(entry.site.layer, entry.site.i, state.day)) { return; }
        var best = -1;
        entry.keys.forEach(function (key) {
          var at = key.indexOf(q);
          if (at === 0) { best = Math.max(best, 2); } else if (at > 0) { best = Math.max(best, 1); }
        });
        if (best >= 0) { scored.push([best, entry.town ? 0 : 1, -order, entry]); }
      });
      scored.sort(function (a, b) { return b[0] - a[0] || b[1] - a[1] || b[2] - a[2]; });
      return scored.slice(0, 8).map(function (s) { return s[3]; });
    },
    _towns: function () {
      var state = this._state;
      if (!this._townEntries) {
        this._townEntries = state.places.towns.map(function (t) {
          return { text: t[0], sub: "Town", keys: [fold(t[0])], town: true, go: function () {
            state.map.setView([t[1], t[2]], Math.max(state.map.getZoom(), 9));
          } };
        });
      }
      return this._townEntries;
    },
    _update: function () {
      var list = this._list, self = this;
      list.textContent = "";
      this.find(this._input.value).forEach(function (entry) {
        var li = el("li", null, null, list);
        var button = el("button", "fm-search-result", null, li);
        button.type = "button";
        el("span", "fm-search-name", entry.text, button);
        el("span", "fm-search-sub", entry.sub, button);
        L.DomEvent.on(button, "click", function () { self.close(); entry.go(); });
      });
    }
  });

  /* The title: the map's name and date (the date never breaks), and what it shows. */
  function addTitle(state, data) {
    var box = el("div", "fm-title leaflet-control");
    var main = el("div", "fm-title-main", null, box);
    var title = String(data.title);
    if (data.date && title.slice(-String(data.date).length) === String(data.date)) {
      main.appendChild(document.createTextNode(title.slice(0, -String(data.date).length)));
      state.titleDate = el("span", "fm-nowrap", data.date, main);
    } else {
      main.textContent = title;
    }
    if (data.subtitle) { state.subtitle = el("div", "fm-title-sub", data.subtitle, box); }
    L.DomEvent.disableClickPropagation(box);
    state.map.getContainer().appendChild(box);
    return box;
  }

  /* Where the legend would cover the subject it starts folded: phones, small frames. */
  var LEGEND_FOLDED = "(max-width: 900px), (max-height: 700px)";

  var LegendControl = L.Control.extend({
    options: { position: "bottomright" },
    initialize: function (items, subtitle, options) {
      this._items = items;
      this._subtitle = subtitle;
      L.setOptions(this, options);
    },
    onAdd: function (map) {
      var box = L.DomUtil.create("div", "fm-legend");
      var id = "fm-legend-body-" + L.stamp(this);
      var toggle = this._toggle = el("button", "fm-legend-toggle", null, box);
      toggle.type = "button";
      el("span", "fm-legend-title", "Legend", toggle);
      el("span", "fm-legend-chevron", null, toggle).setAttribute("aria-hidden", "true");
      toggle.setAttribute("aria-controls", id);
      var body = el("div", "fm-legend-body", null, box);
      body.id = id;
      if (this._subtitle) { this.fmAbout = el("div", "fm-legend-about", this._subtitle, body); }
      var words = this.words = {};
      this._items.forEach(function (item) {
        if (item.section) {
          var head = el("div", "fm-legend-section " + (item.cls || ""), item.section, body);
          if (item.key) { words[item.key] = head; }
          return;
        }
        var row = el("div", "fm-legend-row " + (item.cls || ""), null, body);
        var sym = el("span", "fm-legend-symbol", null, row);
        sym.innerHTML = item.svg;  // built by this file from checked shapes, colours, dashes
        var label = el("span", "fm-legend-label", item.label, row);
        if (item.key) { words[item.key] = label; }
      });
      var self = this;
      L.DomEvent.on(toggle, "click", function () {
        self.fold(!L.DomUtil.hasClass(box, "fm-folded"));
        map.fire("fmlegend");
      });
      this._box = box;
      this.fold(Boolean(global.matchMedia && global.matchMedia(LEGEND_FOLDED).matches));
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    },
    fold: function (folded) {
      if (folded) { L.DomUtil.addClass(this._box, "fm-folded"); } else { L.DomUtil.removeClass(this._box, "fm-folded"); }
      this._toggle.setAttribute("aria-expanded", folded ? "false" : "true");
      this._toggle.setAttribute("aria-label", folded ? "Show the legend" : "Hide the legend");
    },
    folded: function () { return L.DomUtil.hasClass(this._box, "fm-folded"); }
  });

  /* The attribution as text (Leaflet's control takes HTML; ours comes from data). */
  var AttributionControl = L.Control.extend({
    options: { position: "bottomright" },
    initialize: function (text, short) { this._text = text; this._short = short || text; },
    onAdd: function () {
      var box = L.DomUtil.create("div", "leaflet-control-attribution fm-attribution");
      el("span", "fm-attribution-full", this._text, box);
      el("span", "fm-attribution-short", this._short, box).setAttribute("aria-hidden", "true");
      return box;
    }
  });

  /* The layer control: names put in as text, each with the overlay's symbol. */
  var LayerControl = L.Control.Layers.extend({
    _addItem: function (obj) {
      var label = L.Control.Layers.prototype._addItem.call(this, obj);
      var spans = label.getElementsByTagName("span"), name = spans[spans.length - 1];
      var info = obj.layer.fmLabel || { svg: "", text: "" };
      name.textContent = "";
      var item = el("span", "fm-control-item", null, name);
      el("span", "fm-control-symbol", null, item).innerHTML = info.svg;  // built by this file
      el("span", null, info.text, item);
      return label;
    }
  });

  function addTiles(map, data, notice) {
    if (global.navigator && global.navigator.onLine === false) {
      notice("Online tiles (" + data.name + ") are not shown: no network.");
      return null;
    }
    var tiles = L.tileLayer(data.url, {
      attribution: data.attribution, maxZoom: data.maxZoom, crossOrigin: false,
      errorTileUrl: "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
    });
    var failures = 0;
    tiles.on("tileerror", function () {
      failures++;
      if (failures === 4) {
        map.removeLayer(tiles);
        notice("Online tiles (" + data.name + ") could not be loaded; showing the offline basemap.");
      }
    });
    tiles.addTo(map);
    return tiles;
  }

  function overlaySvg(ov) {
    if (ov.type === "sites") {
      var colours = [], svgs = [];
      ov.looks.forEach(function (look) {
        if (colours.indexOf(look[0]) < 0 && colours.length < 3) {
          colours.push(look[0]);
          svgs.push(symbolSvg(ov.symbol, [look[0], 0, 1, "", 1.5, ""], 16));
        }
      });
      return svgs.join("");
    }
    if (ov.type === "areas") { return lineSvg(ov.style.color, "", 7, null); }
    return lineSvg(ov.style.color || "#7a1f1f", ov.style.dashArray, ov.type === "frontier" ? 4 : 2,
      ov.casing ? ov.casing.color : null);
  }

  /* ---------- layout: fitting the view clear of the controls; print ---------- */

  function fitPadding(state) {
    var map = state.map, size = map.getSize(), rect = map.getContainer().getBoundingClientRect();
    var top = 10, left = 10, right = 10, bottom = 10;
    Array.prototype.forEach.call(map.getContainer().querySelectorAll(".leaflet-control, .fm-title"), function (node) {
      var r = node.getBoundingClientRect();
      if (!r.width || !r.height) { return; }
      var x0 = r.left - rect.left, y0 = r.top - rect.top, x1 = r.right - rect.left, y1 = r.bottom - rect.top;
      if (node.classList.contains("fm-title")) { top = Math.max(top, y1 + 6); return; }
      if (x1 < size.x / 3 && y0 < size.y / 2) { left = Math.max(left, x1 + 4); }
      if (x0 > size.x * 2 / 3 && y1 - y0 < size.y / 2) { right = Math.max(right, size.x - x0 + 4); }
      if (y0 > size.y * 2 / 3 && x1 - x0 < size.x / 2) { bottom = Math.max(bottom, size.y - y0 + 4); }
    });
    if (left + right > size.x * 0.6) { right = left = 10; }
    if (top + bottom > size.y * 0.6) { bottom = 10; }
    return { paddingTopLeft: [left, top], paddingBottomRight: [right, bottom] };
  }

  function setupPrint(state, fit) {
    var saved = null;
    function before() {
      if (saved) { return; }
      var container = state.map.getContainer(), legend = state.legend.getContainer();
      saved = {
        center: state.map.getCenter(), zoom: state.map.getZoom(),
        parent: legend.parentNode, next: legend.nextSibling
      };
      /* the legend prints below the map, where it covers nothing */
      container.parentNode.insertBefore(legend, container.nextSibling);
      L.DomUtil.addClass(legend, "fm-print-legend");
      L.DomUtil.addClass(container, "fm-printing");
      state.map.invalidateSize({ pan: false });
      fit(true);
    }
    function after() {
      if (!saved) { return; }
      var legend = state.legend.getContainer();
      saved.parent.insertBefore(legend, saved.next);
      L.DomUtil.removeClass(legend, "fm-print-legend");
      L.DomUtil.removeClass(state.map.getContainer(), "fm-printing");
      state.map.invalidateSize({ pan: false });
      state.map.setView(saved.center, saved.zoom, { animate: false });
      saved = null;
    }
    global.addEventListener("beforeprint", before);
    global.addEventListener("afterprint", after);
    if (global.matchMedia) {
      var media = global.matchMedia("print");
      var change = function (e) { if (e.matches) { before(); } else { after(); } };
      if (media.addEventListener) { media.addEventListener("change", change); }
    }
    state.print = { before: before, after: after };
  }

