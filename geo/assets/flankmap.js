/*
 * flankmap map runtime (part of flankmap, MIT licence).
 *
 * Draws what geo/maps.py embeds: the vector basemap, the frontier, the site layers, the
 * distance lines and range rings, and the controls (title, legend, layer control, geodesic
 * measuring tool, fullscreen button). Needs Leaflet 1.9, inlined beside it.
 *
 * Safety rule: every string that comes from data reaches the page through textContent or
 * esc(), never as raw HTML.
 */
(function (global) {
  "use strict";
  var L = global.L;
  var fm = {};

  /* ---------- small helpers ---------- */

  var ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) { return ESCAPES[c]; });
  }
  fm.esc = esc;

  function el(tag, cls, text, parent) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  /* A delta-encoded ring [x0, y0, dx1, dy1, ...] of integers (degrees * scale) to latlngs. */
  function decode(codes, scale) {
    var out = [], x = 0, y = 0;
    for (var i = 0; i < codes.length; i += 2) {
      x += codes[i];
      y += codes[i + 1];
      out.push([y / scale, x / scale]);
    }
    return out;
  }

  function decodeRings(rings, scale) {
    return rings.map(function (r) { return decode(r, scale); });
  }

  /* ---------- symbols (inline SVG, no icon fonts, no images) ---------- */

  var COLOUR_RE = /^#[0-9a-fA-F]{6}$/;

  var PATH_RE = /^[MLHVZACmlhvzac0-9 .,\-]+$/;

  /* The SVG of a symbol (a path on a 20 x 20 box, from geo/styles.py); the path and the
     colour are checked, so the string is safe as HTML. */
  function symbolSvg(path, colour, size) {
    var d = PATH_RE.test(path) ? path : "M10 2a8 8 0 1 0 0.001 0z";
    var fill = COLOUR_RE.test(colour) ? colour : "#555555";
    var s = size || 20;
    return '<svg class="fm-symbol" width="' + s + '" height="' + s + '" viewBox="0 0 20 20" ' +
      'aria-hidden="true"><path d="' + d + '" fill="' + fill + '" stroke="#1a1a1a" ' +
      'stroke-width="1.5" stroke-linejoin="round"/></svg>';
  }
  fm.symbolSvg = symbolSvg;

  function lineSvg(colour, dash, width, casing) {
    var c = COLOUR_RE.test(colour) ? colour : "#555555";
    var d = dash ? ' stroke-dasharray="' + esc(dash) + '"' : "";
    var under = casing ? '<line x1="1" y1="10" x2="27" y2="10" stroke="' + casing +
      '" stroke-width="' + (width + 3) + '"/>' : "";
    return '<svg class="fm-symbol" width="28" height="20" viewBox="0 0 28 20" aria-hidden="true">' +
      under + '<line x1="1" y1="10" x2="27" y2="10" stroke="' + c + '" stroke-width="' + width +
      '"' + d + "/></svg>";
  }

  function swatchSvg(fill, stroke) {
    return '<svg class="fm-symbol" width="22" height="16" viewBox="0 0 22 16" aria-hidden="true">' +
      '<rect x="1" y="1" width="20" height="14" fill="' + fill + '" stroke="' + stroke +
      '" stroke-width="1.2"/></svg>';
  }

  /* ---------- geodesy (WGS84, Vincenty's inverse formula) ---------- */

  var WGS84_A = 6378137.0, WGS84_F = 1 / 298.257223563, WGS84_B = WGS84_A * (1 - WGS84_F);
  var RAD = Math.PI / 180;

  function haversine(lat1, lon1, lat2, lon2) {
    var dLat = (lat2 - lat1) * RAD, dLon = (lon2 - lon1) * RAD;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
  }

  /* Geodesic distance in metres between two points on the WGS84 ellipsoid. */
  function geodesicDistance(lat1, lon1, lat2, lon2) {
    var f = WGS84_F, a = WGS84_A, b = WGS84_B;
    var lam0 = (lon2 - lon1) * RAD;
    var u1 = Math.atan((1 - f) * Math.tan(lat1 * RAD));
    var u2 = Math.atan((1 - f) * Math.tan(lat2 * RAD));
    var sinU1 = Math.sin(u1), cosU1 = Math.cos(u1), sinU2 = Math.sin(u2), cosU2 = Math.cos(u2);
    var lam = lam0, prev, iter = 0;
    var sinS, cosS, sigma, cos2A, cos2Sm;
    do {
      var sinL = Math.sin(lam), cosL = Math.cos(lam);
      var t1 = cosU2 * sinL, t2 = cosU1 * sinU2 - sinU1 * cosU2 * cosL;
      sinS = Math.sqrt(t1 * t1 + t2 * t2);
      if (sinS === 0) { return 0; }
      cosS = sinU1 * sinU2 + cosU1 * cosU2 * cosL;
      sigma = Math.atan2(sinS, cosS);
      var sinA = cosU1 * cosU2 * sinL / sinS;
      cos2A = 1 - sinA * sinA;
      cos2Sm = cos2A !== 0 ? cosS - 2 * sinU1 * sinU2 / cos2A : 0;
      var C = f / 16 * cos2A * (4 + f * (4 - 3 * cos2A));
      prev = lam;
      lam = lam0 + (1 - C) * f * sinA *
        (sigma + C * sinS * (cos2Sm + C * cosS * (-1 + 2 * cos2Sm * cos2Sm)));
    } while (Math.abs(lam - prev) > 1e-12 && ++iter < 200);
    if (iter >= 200) { return haversine(lat1, lon1, lat2, lon2); }  // near-antipodal points
    var uSq = cos2A * (a * a - b * b) / (b * b);
    var A = 1 + uSq / 16384 * (4096 + uSq * (-768 + uSq * (320 - 175 * uSq)));
    var B = uSq / 1024 * (256 + uSq * (-128 + uSq * (74 - 47 * uSq)));
    var dS = B * sinS * (cos2Sm + B / 4 * (cosS * (-1 + 2 * cos2Sm * cos2Sm) -
      B / 6 * cos2Sm * (-3 + 4 * sinS * sinS) * (-3 + 4 * cos2Sm * cos2Sm)));
    return b * A * (sigma - dS);
  }
  fm.geodesicDistance = geodesicDistance;

  /* Points along the great circle from a to b (for drawing a geodesic as a curve). */
  function greatCircle(a, b) {
    var lat1 = a[0] * RAD, lon1 = a[1] * RAD, lat2 = b[0] * RAD, lon2 = b[1] * RAD;
    var d = haversine(a[0], a[1], b[0], b[1]);
    var n = Math.min(64, Math.max(1, Math.ceil(d / 25000)));
    if (n === 1) { return [a, b]; }
    var delta = d / 6371008.8, sinD = Math.sin(delta), out = [];
    for (var i = 0; i <= n; i++) {
      var t = i / n, fa = Math.sin((1 - t) * delta) / sinD, fb = Math.sin(t * delta) / sinD;
      var x = fa * Math.cos(lat1) * Math.cos(lon1) + fb * Math.cos(lat2) * Math.cos(lon2);
      var y = fa * Math.cos(lat1) * Math.sin(lon1) + fb * Math.cos(lat2) * Math.sin(lon2);
      var z = fa * Math.sin(lat1) + fb * Math.sin(lat2);
      out.push([Math.atan2(z, Math.sqrt(x * x + y * y)) / RAD, Math.atan2(y, x) / RAD]);
    }
    return out;
  }
  fm.greatCircle = greatCircle;

  function formatKm(metres) {
    var km = metres / 1000;
    if (km < 10) { return km.toFixed(2) + " km"; }
    if (km < 100) { return km.toFixed(1) + " km"; }
    return Math.round(km).toLocaleString("en-GB") + " km";
  }
  fm.formatKm = formatKm;

  /* ---------- popups and tooltips, built from text nodes ---------- */

  /* layer.p = {names, subs, rows: [[value, ...]], sources: [[[title, url, publisher]]]} */
  function popupContent(layer, i) {
    var p = layer.p, box = el("div", "fm-popup");
    el("div", "fm-popup-title", p.names[i], box);
    var sub = p.subs ? p.subs[i] : p.sub;
    if (sub) { el("div", "fm-popup-sub", sub, box); }
    if (p.fields.length) {
      /* p.fixed holds the values every feature shares, by field index; p.rows the others */
      var table = el("table", "fm-popup-table", null, box), row = p.rows[i], next = 0;
      var fixed = p.fixed || {};
      for (var k = 0; k < p.fields.length; k++) {
        var value = Object.prototype.hasOwnProperty.call(fixed, String(k)) ? fixed[String(k)] :
          row[next++];
        if (value === "" || value === null || value === undefined) { continue; }
        var tr = el("tr", null, null, table);
        el("th", null, p.fields[k], tr);
        el("td", null, value, tr);
      }
    }
    var sources = p.sources ? p.sources[i] : null;
    if (sources && sources.length) {
      el("div", "fm-popup-head", sources.length > 1 ? "Sources" : "Source", box);
      var list = el("ol", "fm-popup-sources", null, box);
      sources.forEach(function (s) {
        var li = el("li", null, null, list);
        var url = String(s[1] || "");
        if (/^https?:\/\//i.test(url)) {
          var a = el("a", null, s[0] || url, li);
          a.href = url;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
        } else {
          el("span", null, s[0], li);
        }
        if (s[2]) { el("span", "fm-popup-publisher", " — " + s[2], li); }
      });
    }
    return box;
  }

  var POPUP = {
    maxWidth: 360, minWidth: 240, maxHeight: 340,
    autoPanPaddingTopLeft: [50, 80], autoPanPaddingBottomRight: [20, 20]
  };

  function tooltipContent(text) {
    var span = el("span", "fm-tip", text);
    return span;
  }

  /* ---------- layers ---------- */

  function addBasemap(map, data) {
    var pane = map.createPane("fm-basemap");
    pane.style.zIndex = 250;
    var labels = map.createPane("fm-labels");
    labels.style.zIndex = 350;
    labels.style.pointerEvents = "none";
    var renderer = L.canvas({ pane: "fm-basemap", padding: 0.5 });
    var group = L.layerGroup();
    var styles = data.styles;
    data.countries.forEach(function (c) {
      var style = styles[c[1]] || styles.other;
      var polys = c[2].map(function (rings) { return decodeRings(rings, data.scale); });
      L.polygon(polys, {
        pane: "fm-basemap", renderer: renderer, interactive: false,
        color: style.stroke, weight: style.weight, fillColor: style.fill,
        fillOpacity: data.tiles ? style.fillOpacityTiles : 1, opacity: 1
      }).addTo(group);
    });
    data.labels.forEach(function (lab) {
      var label = L.marker([lab[1], lab[2]], {
        pane: "fm-labels", interactive: false, keyboard: false,
        icon: L.divIcon({
          className: "fm-country-label fm-rank-" + lab[3], html: "<span>" + esc(lab[0]) + "</span>",
          iconSize: null
        })
      });
      label.on("add", function (e) {
        e.target.getElement().setAttribute("data-rank", String(lab[3]));
      });
      label.addTo(group);
    });
    group.addTo(map);
    return group;
  }

  function addLines(map, data) {
    /* data.lines = [{coords, tooltip}], data.style = Leaflet path options */
    var group = L.featureGroup();
    var scale = data.scale;
    data.lines.forEach(function (line) {
      var parts = line.coords.map(function (r) { return decode(r, scale); });
      if (data.casing) {
        L.polyline(parts, L.extend({ interactive: false }, data.casing)).addTo(group);
      }
      var pl = L.polyline(parts, L.extend({}, data.style)).addTo(group);
      if (line.tooltip) { pl.bindTooltip(tooltipContent(line.tooltip), { sticky: true }); }
    });
    return group;
  }

  function addDistances(map, data) {
    /* data.lines = [[lat1, lon1, lat2, lon2, label, tooltip], ...] */
    var group = L.featureGroup();
    data.lines.forEach(function (d) {
      var path = greatCircle([d[0], d[1]], [d[2], d[3]]);
      var pl = L.polyline(path, L.extend({}, data.style)).addTo(group);
      pl.bindTooltip(tooltipContent(d[5]), { sticky: true });
      var mid = path[Math.floor(path.length / 2)];
      L.marker(mid, {
        interactive: false, keyboard: false,
        icon: L.divIcon({
          className: "fm-distance-label", html: "<span>" + esc(d[4]) + "</span>", iconSize: null
        })
      }).addTo(group);
      L.circleMarker([d[2], d[3]], {
        radius: 2.5, color: data.style.color, weight: 1, fillOpacity: 1, interactive: false
      }).addTo(group);
    });
    return group;
  }

  function addRings(map, data) {
    /* data.rings = [[codes, colour, tooltip], ...] */
    var group = L.featureGroup();
    data.rings.forEach(function (r) {
      var ring = decode(r[0], data.scale);
      var pl = L.polygon(ring, L.extend({}, data.style, { color: r[1] })).addTo(group);
      pl.bindTooltip(tooltipContent(r[2]), { sticky: true });
    });
    return group;
  }

  /* A point layer drawn on one canvas: fast enough for 100,000 points. Points are projected
     once (Web Mercator pixels at zoom 0); a redraw only scales and shifts them. */
  var PointCloud = L.Layer.extend({
    initialize: function (layer) {
      this._layer = layer;
      this._lat = layer.lat;
      this._lon = layer.lon;
    },
    onAdd: function (map) {
      this._map = map;
      var n = this._lat.length;
      if (!this._px) {
        this._px = new Float64Array(n);
        this._py = new Float64Array(n);
        for (var i = 0; i < n; i++) {
          var p = map.project([this._lat[i], this._lon[i]], 0);
          this._px[i] = p.x;
          this._py[i] = p.y;
        }
      }
      this._canvas = L.DomUtil.create("canvas", "fm-cloud leaflet-zoom-hide");
      map.getPane("overlayPane").appendChild(this._canvas);
      map.on("moveend resize", this._redraw, this);
      map.on("click", this._onClick, this);
      this._redraw();
    },
    onRemove: function (map) {
      L.DomUtil.remove(this._canvas);
      map.off("moveend resize", this._redraw, this);
      map.off("click", this._onClick, this);
    },
    _transform: function () {
      var map = this._map, topLeft = map.containerPointToLayerPoint([0, 0]);
      var origin = map.getPixelOrigin();
      return {
        scale: map.getZoomScale(map.getZoom(), 0),
        dx: -origin.x - topLeft.x, dy: -origin.y - topLeft.y, topLeft: topLeft
      };
    },
    _redraw: function () {
      var map = this._map, size = map.getSize(), ratio = global.devicePixelRatio || 1;
      var canvas = this._canvas, t = this._transform();
      L.DomUtil.setPosition(canvas, t.topLeft);
      canvas.width = size.x * ratio;
      canvas.height = size.y * ratio;
      canvas.style.width = size.x + "px";
      canvas.style.height = size.y + "px";
      var ctx = canvas.getContext("2d");
      ctx.scale(ratio, ratio);
      ctx.fillStyle = this._layer.colour;
      ctx.strokeStyle = "#1a1a1a";
      ctx.lineWidth = 0.8;
      var cell = 8, grid = {}, zoom = map.getZoom(), r = zoom < 6 ? 2.2 : 3.5, drawn = 0;
      var px = this._px, py = this._py, n = px.length;
      for (var i = 0; i < n; i++) {
        var x = px[i] * t.scale + t.dx, y = py[i] * t.scale + t.dy;
        if (x < -r || y < -r || x > size.x + r || y > size.y + r) { continue; }
        var key = Math.floor(x / cell) + ":" + Math.floor(y / cell);
        var bucket = grid[key];
        if (bucket) {
          if (bucket.length < 8) { bucket.push(i); }
          if (zoom < 9) { continue; }  // one dot per cell when zoomed out
        } else {
          grid[key] = [i];
        }
        ctx.beginPath();
        ctx.arc(x, y, r, 0, 2 * Math.PI);
        ctx.fill();
        if (r > 3) { ctx.stroke(); }
        drawn++;
      }
      this._grid = grid;
      this.drawn = drawn;
    },
    _onClick: function (e) {
      var p = e.containerPoint, best = -1, bestD = 64, cell = 8, t = this._transform();
      for (var dx = -1; dx <= 1; dx++) {
        for (var dy = -1; dy <= 1; dy++) {
          var key = (Math.floor(p.x / cell) + dx) + ":" + (Math.floor(p.y / cell) + dy);
          var bucket = this._grid[key] || [];
          for (var k = 0; k < bucket.length; k++) {
            var i = bucket[k];
            var qx = this._px[i] * t.scale + t.dx - p.x, qy = this._py[i] * t.scale + t.dy - p.y;
            var d = qx * qx + qy * qy;
            if (d < bestD) { bestD = d; best = i; }
          }
        }
      }
      if (best >= 0) {
        L.popup(POPUP)
          .setLatLng([this._lat[best], this._lon[best]])
          .setContent(popupContent(this._layer, best))
          .openOn(this._map);
      }
    }
  });

  function addSites(map, layer) {
    var group;
    if (layer.bulk) {
      group = new PointCloud(layer);
      group.count = layer.lat.length;
      return group;
    }
    group = L.featureGroup();
    var html = symbolSvg(layer.symbol, layer.colour, 20);
    var p = layer.p;
    for (var i = 0; i < layer.lat.length; i++) {
      if (layer.areas && layer.areas[i]) {
        L.polygon(layer.areas[i].map(function (rings) {
          return decodeRings(rings, layer.scale);
        }), {
          color: layer.colour, weight: 1.5, fillColor: layer.colour, fillOpacity: 0.18,
          interactive: false
        }).addTo(group);
      }
      var marker = L.marker([layer.lat[i], layer.lon[i]], {
        icon: L.divIcon({
          className: "fm-marker fm-layer-" + layer.slug, html: html,
          iconSize: [20, 20], iconAnchor: [10, 10], popupAnchor: [0, -8], tooltipAnchor: [10, 0]
        }),
        riseOnHover: true
      });
      marker.bindPopup(popupContent.bind(null, layer, i), POPUP);
      marker.bindTooltip(tooltipContent(p.tips ? p.tips[i] : p.names[i]), { direction: "right" });
      marker.addTo(group);
    }
    group.count = layer.lat.length;
    return group;
  }

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

  var ICON_RULER = '<svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true">' +
    '<g fill="none" stroke="#333" stroke-width="1.6"><rect x="1.5" y="6" width="15" height="6" ' +
    'rx="1"/><path d="M4.5 6v3M7.5 6v2M10.5 6v3M13.5 6v2"/></g></svg>';
  var ICON_FULL = '<svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true">' +
    '<path d="M2 7V2h5M11 2h5v5M16 11v5h-5M7 16H2v-5" fill="none" stroke="#333" ' +
    'stroke-width="1.8"/></svg>';
  var ICON_EXIT = '<svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true">' +
    '<path d="M7 2v5H2M16 7h-5V2M11 16v-5h5M2 11h5v5" fill="none" stroke="#333" ' +
    'stroke-width="1.8"/></svg>';

  /* Measure geodesic distances: click points on the map, double-click or Esc to finish. */
  var MeasureControl = L.Control.extend({
    options: { position: "topleft" },
    onAdd: function (map) {
      this._map = map;
      var box = L.DomUtil.create("div", "leaflet-bar fm-measure");
      this._button = iconButton(box, "Measure a geodesic distance (click points; double-click or Esc to finish)",
        ICON_RULER, this.toggle.bind(this));
      this._readout = el("div", "fm-measure-readout", null, box);
      this._readout.style.display = "none";
      this._layer = L.featureGroup().addTo(map);
      this._points = [];
      L.DomEvent.disableClickPropagation(box);
      return box;
    },
    toggle: function () { if (this._active) { this.stop(); } else { this.start(); } },
    start: function () {
      this._active = true;
      this.clear();
      L.DomUtil.addClass(this._button, "fm-active");
      L.DomUtil.addClass(this._map.getContainer(), "fm-measuring");
      this._map.doubleClickZoom.disable();
      this._map.on("click", this._onClick, this);
      this._map.on("dblclick", this.stop, this);
      L.DomEvent.on(document, "keydown", this._onKey, this);
      this._show("Click on the map to start measuring");
    },
    stop: function () {
      this._active = false;
      L.DomUtil.removeClass(this._button, "fm-active");
      L.DomUtil.removeClass(this._map.getContainer(), "fm-measuring");
      this._map.off("click", this._onClick, this);
      this._map.off("dblclick", this.stop, this);
      L.DomEvent.off(document, "keydown", this._onKey, this);
      this._map.doubleClickZoom.enable();
      if (this._points.length < 2) { this.clear(); }
    },
    clear: function () {
      this._points = [];
      this._layer.clearLayers();
      this._readout.style.display = "none";
    },
    _onKey: function (e) { if (e.key === "Escape") { this.stop(); } },
    _onClick: function (e) { this.addPoint(e.latlng); },
    addPoint: function (latlng) {
      var pts = this._points;
      pts.push([latlng.lat, latlng.lng]);
      L.circleMarker(latlng, { radius: 4, color: "#111", weight: 2, fillColor: "#fff",
        fillOpacity: 1, interactive: false }).addTo(this._layer);
      if (pts.length > 1) {
        var a = pts[pts.length - 2], b = pts[pts.length - 1];
        L.polyline(greatCircle(a, b), { color: "#111", weight: 2.5, dashArray: "6 4",
          interactive: false }).addTo(this._layer);
      }
      var total = this.total();
      this._show(pts.length < 2 ? "Click the next point" :
        "Total " + formatKm(total) + " (geodesic, WGS84)");
      return total;
    },
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
      this._map.invalidateSize();
    }
  });

  function addTitle(map, data) {
    var box = el("div", "fm-title leaflet-control");
    el("div", "fm-title-main", data.title, box);
    if (data.subtitle) { el("div", "fm-title-sub", data.subtitle, box); }
    L.DomEvent.disableClickPropagation(box);
    map.getContainer().appendChild(box);
    return box;
  }

  var LegendControl = L.Control.extend({
    options: { position: "bottomright" },
    initialize: function (items, options) { this._items = items; L.setOptions(this, options); },
    onAdd: function () {
      var box = L.DomUtil.create("div", "fm-legend");
      var head = el("div", "fm-legend-head", null, box);
      el("span", null, "Legend", head);
      var toggle = el("button", "fm-legend-toggle", "−", head);
      toggle.type = "button";
      toggle.setAttribute("aria-label", "Hide or show the legend");
      var body = el("div", "fm-legend-body", null, box);
      this._items.forEach(function (item) {
        if (item.section) { el("div", "fm-legend-section", item.section, body); return; }
        var row = el("div", "fm-legend-row", null, body);
        var sym = el("span", "fm-legend-symbol", null, row);
        sym.innerHTML = item.svg;  // built by this file from checked shape and colour
        el("span", "fm-legend-label", item.label, row);
      });
      L.DomEvent.on(toggle, "click", function () {
        var hidden = body.style.display === "none";
        body.style.display = hidden ? "" : "none";
        toggle.textContent = hidden ? "−" : "+";
      });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    }
  });

  function addTiles(map, data, control, notice) {
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

  /* Hide country names that would overlap a bigger country's name (bigger ranks first). */
  function declutter(map) {
    var pane = map.getPane("fm-labels");
    if (!pane) { return; }
    var spans = Array.prototype.slice.call(pane.querySelectorAll(".fm-country-label span"));
    spans.forEach(function (s) { s.style.visibility = ""; });
    var zoom = map.getZoom(), placed = [];
    spans.sort(function (a, b) {
      return Number(a.parentNode.getAttribute("data-rank")) - Number(b.parentNode.getAttribute("data-rank"));
    });
    spans.forEach(function (s) {
      var rank = Number(s.parentNode.getAttribute("data-rank"));
      if (rank > 1 && zoom < 4.5 || rank > 2 && zoom < 6) { s.style.visibility = "hidden"; return; }
      var r = s.getBoundingClientRect();
      if (!r.width) { return; }
      var clash = placed.some(function (q) {
        return r.left < q.right + 4 && r.right + 4 > q.left && r.top < q.bottom && r.bottom > q.top;
      });
      if (clash) { s.style.visibility = "hidden"; } else { placed.push(r); }
    });
  }

  /* ---------- the whole map ---------- */

  fm.maps = [];

  fm.render = function (map, data) {
    var state = { map: map, overlays: {}, counts: {} };
    fm.maps.push(state);
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution(esc(data.attribution));
    var control = L.control.layers(null, null, { collapsed: data.collapseControl, position: "topright" });
    var notices = el("div", "fm-notice leaflet-control");
    notices.style.display = "none";
    function notice(text) { notices.textContent = text; notices.style.display = "block"; }
    addBasemap(map, data.basemap);
    if (data.tiles) {
      var tiles = addTiles(map, data.tiles, control, notice);
      if (tiles) {
        control.addOverlay(tiles, esc("Online tiles: " + data.tiles.name));
        state.overlays.tiles = tiles;
      }
    }
    var legend = [];
    data.overlays.forEach(function (ov) {
      var layer;
      if (ov.type === "frontier") { layer = addLines(map, ov); }
      else if (ov.type === "distances") { layer = addDistances(map, ov); }
      else if (ov.type === "rings") { layer = addRings(map, ov); }
      else { layer = addSites(map, ov); }
      if (ov.show !== false) { layer.addTo(map); }
      var svg = ov.type === "sites" ? symbolSvg(ov.symbol, ov.colour, 16) :
        lineSvg(ov.style.color, ov.style.dashArray, ov.type === "frontier" ? 4 : 2,
          ov.casing ? ov.casing.color : null);
      control.addOverlay(layer, '<span class="fm-control-item">' + svg + esc(ov.label) + "</span>");
      state.overlays[ov.slug] = layer;
      if (ov.type === "sites") { state.counts[ov.slug] = layer.count; }
    });
    control.addTo(map);
    /* legend: basemap shading, then the analysis, then the site layers */
    legend.push({ section: "Countries on " + data.date });
    data.basemap.legend.forEach(function (item) {
      var st = data.basemap.styles[item[0]];
      legend.push({ svg: swatchSvg(st.fill, st.stroke), label: item[1] });
    });
    var analysis = data.overlays.filter(function (ov) { return ov.type !== "sites"; });
    if (analysis.length) { legend.push({ section: "Analysis" }); }
    analysis.forEach(function (ov) {
      legend.push({
        svg: lineSvg(ov.style.color, ov.style.dashArray, ov.type === "frontier" ? 4 : 2,
          ov.casing ? ov.casing.color : null),
        label: ov.legend || ov.label
      });
    });
    var sites = data.overlays.filter(function (ov) { return ov.type === "sites"; });
    if (sites.length) { legend.push({ section: "Sites" }); }
    sites.forEach(function (ov) {
      legend.push({ svg: symbolSvg(ov.symbol, ov.colour, 16), label: ov.legend || ov.label });
    });
    new LegendControl(legend).addTo(map);
    L.control.scale({ imperial: false, maxWidth: 160, position: "bottomleft" }).addTo(map);
    state.measure = new MeasureControl().addTo(map);
    new FullscreenControl().addTo(map);
    addTitle(map, data);
    map.getContainer().appendChild(notices);
    function detail() {
      var c = map.getContainer();
      if (map.getZoom() >= data.labelZoom) { L.DomUtil.addClass(c, "fm-detail"); }
      else { L.DomUtil.removeClass(c, "fm-detail"); }
      c.setAttribute("data-zoom", String(Math.round(map.getZoom())));
    }
    map.on("zoomend", detail);
    map.on("zoomend moveend", function () { declutter(map); });
    function fit() {
      if (data.bounds) { map.fitBounds(data.bounds, { padding: [12, 12] }); }
      detail();
      declutter(map);
    }
    var size = map.getSize();
    if (size.x > 0 && size.y > 0) {
      fit();
    } else {
      /* A hidden map (display: none, e.g. in a tab or a report's second pane) has no size to
         fit the bounds to: wait until it is shown. */
      var watcher = function () {
        map.invalidateSize();
        var now = map.getSize();
        if (now.x > 0 && now.y > 0) {
          if (state.observer) { state.observer.disconnect(); }
          global.removeEventListener("resize", watcher);
          fit();
        }
      };
      if (global.ResizeObserver) {
        state.observer = new global.ResizeObserver(watcher);
        state.observer.observe(map.getContainer());
      }
      global.addEventListener("resize", watcher);
    }
    state.ready = true;
    return state;
  };

  global.flankmap = fm;
})(window);
