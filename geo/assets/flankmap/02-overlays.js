  /* ---------- overlays ---------- */

  /* Lines {coords: [codes], tooltip} at a scale into a group, with the overlay's casing. */
  function drawLines(group, data, lines, scale) {
    lines.forEach(function (line) {
      var parts = line.coords.map(function (r) { return decode(r, scale); });
      if (data.casing) {
        L.polyline(parts, L.extend({ interactive: false }, data.casing)).addTo(group);
      }
      var pl = L.polyline(parts, L.extend({}, data.style)).addTo(group);
      if (line.tooltip) { pl.bindTooltip(tooltipContent(line.tooltip), { sticky: true }); }
    });
  }

  /* The land the basemap's simplified countries give to the neighbour across the frontier,
     in the fill of the country it belongs to (on the borders measured to), over the basemap;
     restyled with the countries by date (state.countries). */
  function frontierFills(state, detail) {
    var group = L.layerGroup(), styles = state.data.basemap.styles, groups = {};
    var renderer = L.canvas({ pane: "fm-basemap", padding: 0.5 });
    state.countries.forEach(function (c) { groups[c.code] = groups[c.code] || c; });
    detail.fills.forEach(function (row) {
      var known = groups[row[0]], shown = known ? known.shown : "other";
      var st = styles[shown] || styles.other;
      /* outlined in the fill, to cover the simplified border's stroke along its edge */
      var polygon = L.polygon(polygonsOf(row[1], detail.scale), {
        pane: "fm-basemap", renderer: renderer, interactive: false, color: st.fill,
        weight: 2 * st.weight, fillColor: st.fill, fillOpacity: 1, opacity: 1
      }).addTo(group);
      polygon.setStyle = function (s) {  /* restyled by date as the countries: outline as fill */
        return L.Polygon.prototype.setStyle.call(this, { color: s.fillColor, fillColor: s.fillColor });
      };
      state.countries.push({
        code: row[0], group: known ? known.group : "other", shown: shown, polygon: polygon
      });
    });
    return group;
  }

  /* The frontier: the display's lines, and from detail.zoom on the frontier of the borders
     the distances are measured to (detail.pairs), so that no point is drawn on one side and
     measured on the other. group.fmSet(lines, pairs) shows another state of the frontier. */
  function addFrontier(data, state) {
    var group = L.featureGroup(), detail = data.detail, map = state.map;
    var low = data.lines, pairs = detail ? detail.shown : null;
    var fills = detail && detail.fills ? frontierFills(state, detail) : null;
    function fine() { return !!(detail && pairs && map.getZoom() >= detail.zoom); }
    function draw() {
      group.clearLayers();
      group.fmFine = fine();
      if (fills && group.fmFine !== map.hasLayer(fills)) {
        if (group.fmFine) { fills.addTo(map); } else { map.removeLayer(fills); }
      }
      if (!group.fmFine) { drawLines(group, data, low, data.scale); return; }
      var lines = [];
      pairs.forEach(function (pair) { lines = lines.concat(detail.pairs[pair] || []); });
      drawLines(group, data, lines, detail.scale);
    }
    group.fmSet = function (lines, shown) {
      low = lines;
      pairs = shown || pairs;
      draw();
    };
    if (detail) {
      map.on("zoomend", function () { if (fine() !== group.fmFine) { draw(); } });
    }
    draw();
    return group;
  }

  function addDistances(data) {
    var group = L.featureGroup();
    group.fmLabels = [];
    data.lines.forEach(function (d) {
      var path = greatCircle([d[0], d[1]], [d[2], d[3]]);
      var pl = L.polyline(path, L.extend({}, data.style)).addTo(group);
      pl.bindTooltip(tooltipContent(d[5]), { sticky: true });
      var mid = path[Math.floor(path.length / 2)];
      var label = labelMarker(mid, "fm-distance-label", d[4], "markerPane").addTo(group);
      label.fmPath = path;
      group.fmLabels.push(label);
      L.circleMarker([d[2], d[3]], {
        radius: 2.5, color: data.style.color, weight: 1, fillOpacity: 1, interactive: false
      }).addTo(group);
    });
    return group;
  }

  function addRings(data) {
    var group = L.featureGroup();
    group.fmLabels = [];
    data.rings.forEach(function (r) {
      var colour = COLOUR_RE.test(r[1]) ? r[1] : "#7a1f1f";
      var ring = decode(r[0], data.scale);
      var pl = L.polygon(ring, L.extend({}, data.style, { color: colour })).addTo(group);
      pl.bindTooltip(tooltipContent(r[2]), { sticky: true });
      var label = labelMarker([r[4], r[5]], "fm-ring-label", r[3], "markerPane").addTo(group);
      label.fmText.style.color = colour;
      group.fmLabels.push(label);
    });
    return group;
  }

  function addAreas(data, state) {
    var group = L.featureGroup();
    group.fmLabels = [];
    data.areas.forEach(function (area) {
      var parts = area.lines.map(function (r) { return decode(r, data.scale); });
      var band = L.polyline(parts, L.extend({}, data.style)).addTo(group);
      band.bindTooltip(tooltipContent(area.name), { sticky: true });
      band.on("click", function (e) {
        if (state.measure && state.measure.active()) { return; }
        openPopup(state, L.popup(popupOptions(state)).setLatLng(e.latlng)
          .setContent(areaContent(area)));
      });
      var line = parts[0], mid = line[Math.floor(line.length / 2)];
      var label = labelMarker(mid, "fm-area-label", area.name, "fm-labels").addTo(group);
      label.fmEnds = [line[0], line[line.length - 1]];
      group.fmLabels.push(label);
      state.search.push({
        text: area.name, sub: "Named area", keys: [fold(area.name)],
        go: function () {
          state.map.fitBounds(band.getBounds(), { maxZoom: 8 });
          openPopup(state, L.popup(popupOptions(state)).setLatLng(mid).setContent(areaContent(area)));
        }
      });
    });
    return group;
  }

  /* A point layer drawn on one canvas: fast enough for 100,000 points. Points are projected
     once (Web Mercator pixels at zoom 0); a redraw only scales and shifts them. */
  var PointCloud = L.Layer.extend({
    initialize: function (layer, state) {
      this._layer = layer;
      this._state = state;
      this._lat = layer.pts ? null : layer.lat;
      this._lon = layer.pts ? null : layer.lon;
      this._colours = layer.looks.map(function (look) {
        return COLOUR_RE.test(look[0]) ? look[0] : "#555555";
      });
    },
    onAdd: function (map) {
      this._map = map;
      this._project();
      this._canvas = L.DomUtil.create("canvas", "fm-cloud leaflet-zoom-hide");
      map.getPane("overlayPane").appendChild(this._canvas);
      map.on("moveend resize", this._redraw, this);
      map.on("click", this._onClick, this);
      this._redraw();
    },
    /* The points' Web Mercator pixels at zoom 0, once (a binary layer: once decoded). */
    _project: function () {
      var map = this._map;
      if (!map || this._px || !this._lat) { return; }
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
    },
    /* A binary layer is drawn once decoded; its search entries come then. */
    _decoded: function (layer) {
      this._lat = layer.lat;
      this._lon = layer.lon;
      this.loaded = true;
      this._project();
      this._filter();
      if (this._map && this._canvas) { this._redraw(); }
    },
    /* The slider's day (the map's "fmday"): a dated file shows the points in service then. */
    _onDay: function (e) {
      this._day = e.day;
      this._filter();
      if (this._map && this._canvas) { this._redraw(); }
    },
    /* Which points the day shows (by group of a binary layer, else by point), and the count. */
    _filter: function () {
      var layer = this._layer, state = this._state, day = this._day;
      var pts = layer.pts, days = pts ? pts.days : null, since = pts ? null : layer.since;
      var n = this._lat ? this._lat.length : 0;
      if (!day || !n || !(days || since || (pts && pts.epoch))) { return; }
      /* first and last days: "YYYY-MM-DD" texts, or day numbers after the epoch (0: open) */
      var within = function (first, last, d) { return (!first || first <= d) && (!last || d <= last); };
      var groupOn = days && days.map(function (d) { return within(d[0], d[1], day) ? 1 : 0; });
      var byDay = Boolean(pts && pts.epoch), today = byDay ? dayNumber(day) - dayNumber(pts.epoch) : 0;
      var on = this._dayOn = new Uint8Array(n), shown = 0;
      for (var i = 0; i < n; i++) {
        on[i] = (groupOn ? groupOn[layer.group[i]] : byDay ? within(layer.first[i], layer.last[i], today)
          : within(since[i], layer.until[i], day)) ? 1 : 0;
        shown += on[i];
      }
      this.count = state.counts[layer.slug] = shown;
      if (this.fmLabel) { this.fmLabel.text = String(layer.label).replace(/\([\d,]+\)$/, "(" + countText(shown) + ")"); }
      if (state.layerControl) { state.layerControl._update(); }
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
      ctx.strokeStyle = "#1a1a1a";
      ctx.lineWidth = 0.8;
      var look = this._layer.look, colours = this._colours;
      var cell = 8, grid = {}, zoom = map.getZoom(), r = zoom < 6 ? 2.2 : 3.5, drawn = 0;
      var px = this._px || [], py = this._py || [], n = px.length, on = this._dayOn;
      for (var i = 0; i < n; i++) {
        if (on && !on[i]) { continue; }  // not in service on the slider's day
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
        ctx.fillStyle = colours[look ? look[i] : 0] || colours[0];
        ctx.beginPath();
        ctx.arc(x, y, r, 0, 2 * Math.PI);
        ctx.fill();
        if (r > 3) { ctx.stroke(); }
        drawn++;
      }
      this._grid = grid;
      this.drawn = drawn;
    },
    /* The index of the point drawn nearest to a container point, within 8 px, or -1. */
    nearest: function (p) {
      var best = -1, bestD = 64, cell = 8, t = this._transform();
      if (!this._px) { return -1; }
      for (var dx = -1; dx <= 1; dx++) {
        for (var dy = -1; dy <= 1; dy++) {
          var key = (Math.floor(p.x / cell) + dx) + ":" + (Math.floor(p.y / cell) + dy);
          var bucket = (this._grid && this._grid[key]) || [];
          for (var k = 0; k < bucket.length; k++) {
            var i = bucket[k];
            var qx = this._px[i] * t.scale + t.dx - p.x, qy = this._py[i] * t.scale + t.dy - p.y;
            var d = qx * qx + qy * qy;
            if (d < bestD) { bestD = d; best = i; }
          }
        }
      }
      return best;
    },
    open: function (i) {
      var state = this._state;
      openPopup(state, L.popup(popupOptions(state))
        .setLatLng([this._lat[i], this._lon[i]])
        .setContent(popupContent(this._layer, i)), { layer: this._layer, i: i });
    },
    _onClick: function (e) {
      if (this._state.measure && this._state.measure.active()) { return; }
      var best = this.nearest(e.containerPoint);
      if (best >= 0) { this.open(best); }
    }
  });

  function stackKey(lat, lon) { return lat.toFixed(5) + "," + lon.toFixed(5); }

  function siteIcon(html, offset, count) {
    var dx = offset ? offset[0] : 0, dy = offset ? offset[1] : 0;
    var box = html;
    if (count > 1) {
      box += '<span class="fm-stack-count" aria-hidden="true">' + Number(count) + "</span>";
    }
    return L.divIcon({
      className: "fm-marker", html: box, iconSize: [20, 20],
      iconAnchor: [10 - dx, 10 - dy], popupAnchor: [dx, dy - 8], tooltipAnchor: [dx + 10, dy]
    });
  }

  function addSites(layer, state) {
    var group;
    layer.fmState = state;
    if (layer.bulk) {
      group = new PointCloud(layer, state);
      group.count = layer.pts ? layer.pts.n : layer.lat.length;
      state.clouds.push(group);
      state.map.on("fmday", group._onDay, group);
      var searchable = function () {
        layer.p.names.forEach(function (name, i) {
          state.search.push(searchEntry(layer, i, function () {
            state.map.setView([layer.lat[i], layer.lon[i]], Math.max(state.map.getZoom(), 9));
            group.open(i);
          }));
        });
      };
      if (layer.pts) {
        group.loaded = false;
        group.decoding = decodePoints(layer).then(function () {
          state.searchLater.push(searchable);  // a million names: indexed at the first search
          group._decoded(layer);
        });
      } else {
        searchable();
      }
      return group;
    }
    group = L.featureGroup();
    var svgs = layer.looks.map(function (look) { return symbolSvg(layer.symbol, look, 20); });
    var p = layer.p;
    layer.fmSvgs = svgs;
    layer.fmParts = [];  // per site: its marker, area and line (the slider adds and removes them)
    for (var i = 0; i < layer.lat.length; i++) {
      var parts_i = layer.fmParts[i] = [];
      if (layer.areas && layer.areas[i]) {
        parts_i.push(L.polygon(layer.areas[i].map(function (rings) {
          return decodeRings(rings, layer.scale);
        }), {
          color: layer.colour, weight: 1.5, fillColor: layer.colour, fillOpacity: 0.18,
          interactive: false
        }).addTo(group));
      }
      if (layer.lines && layer.lines[i]) {
        var parts = layer.lines[i].map(function (r) { return decode(r, layer.scale); });
        /* dashed, so that a line drawn along the frontier leaves the frontier visible */
        parts_i.push(L.polyline(parts, { color: COLOUR_RE.test(layer.colour) ? layer.colour : "#555555",
          weight: 2.5, opacity: 0.95, dashArray: "7 6", interactive: false }).addTo(group));
      }
      var key = stackKey(layer.lat[i], layer.lon[i]);
      var html = svgs[layer.look ? layer.look[i] : 0];
      var marker = L.marker([layer.lat[i], layer.lon[i]], {
        icon: siteIcon(html, null, state.stackCounts[key] || 1), riseOnHover: true
      });
      marker.fmSite = { layer: layer, i: i, html: html, key: key, group: group,
        count: state.stackCounts[key] || 1 };
      marker.on("add", nameMarker);
      marker.on("click", activateMarker.bind(null, state, marker));
      marker.on("keypress", function (m, e) {
        if (e.originalEvent && (e.originalEvent.key === "Enter" || e.originalEvent.keyCode === 13)) {
          activateMarker(state, m);
        }
      }.bind(null, marker));
      marker.bindTooltip(tooltipContent(p.tips ? p.tips[i] : p.names[i]), { direction: "right" });
      marker.addTo(group);
      parts_i.push(marker);
      layer.fmParts[i].marker = marker;
      state.markers.push(marker);
      (state.stacks[key] = state.stacks[key] || []).push(marker);
      var entry = searchEntry(layer, i, showMarker.bind(null, state, marker));
      entry.site = { layer: layer, i: i };
      state.search.push(entry);
    }
    group.count = layer.lat.length;
    return group;
  }

  /* Give a marker's element its accessible name and what the tests and sorting read. */
  function nameMarker(e) {
    var marker = e.target, site = marker.fmSite, node = marker.getElement();
    if (!node) { return; }
    node.classList.add("fm-layer-" + site.layer.slug);
    node.setAttribute("aria-label", site.layer.p.names[site.i] + " (" + site.layer.legend + ")");
    node.setAttribute("data-lat", String(site.layer.lat[site.i]));
    node.setAttribute("data-lon", String(site.layer.lon[site.i]));
  }

  function searchEntry(layer, i, go) {
    var p = layer.p;
    var keys = [fold(p.names[i])];
    if (p.ids && p.ids[i]) { keys.push(fold(p.ids[i])); }
    if (p.aka && p.aka[i]) { keys.push(fold(p.aka[i])); }
    return { text: p.names[i], sub: layer.legend, keys: keys, go: go };
  }

  /* A click or Enter on a marker: a measuring point, the spread of a stack, or the popup. */
  function activateMarker(state, marker) {
    var site = marker.fmSite;
    if (state.measure && state.measure.active()) {
      state.measure.addPoint(marker.getLatLng(), site.layer.p.names[site.i]);
      return;
    }
    var stack = (state.stacks[site.key] || []).filter(function (m) { return state.map.hasLayer(m); });
    if (stack.length > 1 && state.spread !== site.key) {
      spread(state, site.key, stack);
      return;
    }
    openSite(state, marker);
  }

  function openSite(state, marker) {
    var site = marker.fmSite;
    var popup = L.popup(popupOptions(state), marker).setLatLng(marker.getLatLng())
      .setContent(popupContent(site.layer, site.i));
    openPopup(state, popup, { layer: site.layer, i: site.i, marker: marker });
  }

  /* Show a site found by the search: its layer on, the map on it, its popup open. */
  function showMarker(state, marker) {
    var map = state.map, group = marker.fmSite.group;
    if (!map.hasLayer(group)) { group.addTo(map); }
    map.setView(marker.getLatLng(), Math.max(map.getZoom(), 8));
    var stack = (state.stacks[marker.fmSite.key] || []).filter(function (m) { return map.hasLayer(m); });
    if (stack.length > 1) { spread(state, marker.fmSite.key, stack); }
    openSite(state, marker);
  }

  /* Sites at one point: spread them around it on a click, so that each can be reached. */
  function spread(state, key, stack) {
    var active = document.activeElement;
    var keyboard = Boolean(active && active.classList && active.classList.contains("fm-marker"));
    collapse(state);
    var map = state.map, n = stack.length, radius = 22 + 3 * n, legs = [];
    stack.forEach(function (marker, k) {
      var angle = -Math.PI / 2 + 2 * Math.PI * k / n;
      var offset = [Math.round(radius * Math.cos(angle)), Math.round(radius * Math.sin(angle))];
      legs.push(offset);
      marker.setIcon(siteIcon(marker.fmSite.html, offset, 1));
      marker.setZIndexOffset(1000);
      nameMarker({ target: marker });
      marker.getElement().classList.add("fm-spread");
    });
    var size = 2 * radius + 4, c = radius + 2;
    var svg = '<svg width="' + size + '" height="' + size + '" aria-hidden="true" focusable="false">' +
      legs.map(function (o) {
        return '<line x1="' + c + '" y1="' + c + '" x2="' + (c + o[0]) + '" y2="' + (c + o[1]) +
          '" stroke="#1a1a1a" stroke-width="1.2"/>';
      }).join("") + '<circle cx="' + c + '" cy="' + c + '" r="3" fill="#1a1a1a"/></svg>';
    state.legs = L.marker(stack[0].getLatLng(), {
      interactive: false, keyboard: false, zIndexOffset: 900,
      icon: L.divIcon({ className: "fm-legs", html: svg, iconSize: [size, size] })
    }).addTo(map);
    state.spread = key;
    var first = stack[0].getElement();
    if (first && keyboard) { first.focus(); }
    relabel(state);
  }

  function collapse(state) {
    if (!state.spread) { return; }
    (state.stacks[state.spread] || []).forEach(function (marker) {
      marker.setIcon(siteIcon(marker.fmSite.html, null, state.stackCounts[marker.fmSite.key]));
      marker.setZIndexOffset(0);
      nameMarker({ target: marker });
    });
    if (state.legs) { state.map.removeLayer(state.legs); state.legs = null; }
    state.spread = null;
    orderMarkers(state);
  }

  /* Keyboard order of the sites: north to south, then west to east. */
  function orderMarkers(state) {
    var pane = state.map.getPane("markerPane");
    var nodes = Array.prototype.slice.call(pane.querySelectorAll(".fm-marker"));
    nodes.sort(function (a, b) {
      return Number(b.getAttribute("data-lat")) - Number(a.getAttribute("data-lat")) ||
        Number(a.getAttribute("data-lon")) - Number(b.getAttribute("data-lon"));
    });
    nodes.forEach(function (node) { pane.appendChild(node); });
  }

  /* The overlay types: each makes the Leaflet layer of one overlay of the data, called as
     make(overlay, state); an unknown type is an error, never drawn as something else. */
  var OVERLAY_TYPES = {
    frontier: addFrontier,
    distances: addDistances,
    rings: addRings,
    areas: addAreas,
    sites: addSites
  };

  function makeOverlay(state, ov) {
    if (!own.call(OVERLAY_TYPES, ov.type)) {
      throw new Error("flankmap: unknown overlay type " + JSON.stringify(ov.type));
    }
    return OVERLAY_TYPES[ov.type](ov, state);
  }
  fm.OVERLAY_TYPES = OVERLAY_TYPES;

  /* ---------- selection: the uncertainty circle and the site's distance line ---------- */

  function openPopup(state, popup, site) {
    state.map.openPopup(popup);
    select(state, site || null);
    popup.once("remove", function () { if (state.selected === site) { select(state, null); } });
  }

  function uncertaintyCircle(lat, lon, metres, emphasis) {
    return L.polygon(geodesicCircle(lat, lon, metres, 72), {
      interactive: false, color: "#222222", weight: emphasis ? 1.6 : 1, opacity: emphasis ? 0.9 : 0.6,
      dashArray: "4 3", fillColor: "#222222", fillOpacity: emphasis ? 0.08 : 0.04
    });
  }

  function select(state, site) {
    state.selected = site;
    state.selection.clearLayers();
    if (!site) { return; }
    var layer = site.layer, i = site.i, lat = layer.lat[i], lon = layer.lon[i];
    var metres = layer.unc ? layer.unc[i] : 0;
    if (metres > 0) { uncertaintyCircle(lat, lon, metres, true).addTo(state.selection); }
    var to = layer.to ? layer.to[i] : null;
    var row = distanceOn(state, layer, i);
    if (row !== undefined) { to = row ? [row[1], row[2]] : null; }
    if (to) {
      L.polyline(greatCircle([lat, lon], to), {
        interactive: false, color: "#111111", weight: 2.5, opacity: 0.95
      }).addTo(state.selection);
    }
  }

  /* From the uncertainty zoom on, every marker in view shows its uncertainty circle. */
  function updateCircles(state) {
    var map = state.map, show = map.getZoom() >= state.zooms.uncertainty;
    state.circles.clearLayers();
    if (!show) { return; }
    var view = map.getBounds().pad(0.2);
    state.markers.forEach(function (marker) {
      var site = marker.fmSite, metres = site.layer.unc ? site.layer.unc[site.i] : 0;
      if (metres > 0 && map.hasLayer(marker) && view.contains(marker.getLatLng())) {
        var ll = marker.getLatLng();
        uncertaintyCircle(ll.lat, ll.lng, metres, false).addTo(state.circles);
      }
    });
  }

  /* ---------- labels: placed in priority order so that none covers another or a marker ---------- */

  function sizeOf(span) {
    if (span.fmW === undefined || !span.fmW) {
      span.fmW = span.offsetWidth;
      span.fmH = span.offsetHeight;
    }
    return [span.fmW, span.fmH];
  }

  /* A point of the visible part of a region where a label of w x h pixels fits inside it
     (and outside the regions named apart, such as Kaliningrad oblast for Russia), nearest
     the view's centre; or null. */
  function visibleSpot(map, area, w, h, exclude) {
    var view = map.getBounds();
    if (!view.intersects(area.bounds)) { return null; }
    var bounds = area.bounds;
    var south = Math.max(view.getSouth(), bounds.getSouth()), north = Math.min(view.getNorth(), bounds.getNorth());
    var west = Math.max(view.getWest(), bounds.getWest()), east = Math.min(view.getEast(), bounds.getEast());
    var centre = view.getCenter(), spots = [], n = 10;
    for (var a = 1; a < n; a++) {
      for (var b = 1; b < n; b++) {
        var lat = south + (north - south) * a / n, lon = west + (east - west) * b / n;
        spots.push([Math.pow(lat - centre.lat, 2) + Math.pow(lon - centre.lng, 2), L.latLng(lat, lon)]);
      }
    }
    spots.sort(function (x, y) { return x[0] - y[0]; });
    var size = map.getSize();
    function inside(ll) {
      return inPolygons(ll.lat, ll.lng, area.polys) && !exclude.some(function (polys) {
        return inPolygons(ll.lat, ll.lng, polys);
      });
    }
    for (var k = 0; k < spots.length; k++) {
      var ll = spots[k][1], pt = map.latLngToContainerPoint(ll);
      if (pt.x - w / 2 < 0 || pt.x + w / 2 > size.x || pt.y - h < 0 || pt.y + h > size.y) { continue; }
      var ends = [[-w / 2, 0], [w / 2, 0], [0, 0], [-w / 2, -h / 2], [w / 2, h / 2]];
      if (ends.every(function (e) { return inside(map.containerPointToLatLng([pt.x + e[0], pt.y + e[1]])); })) {
        return ll;
      }
    }
    return null;
  }

  /* Whether a label of w x h pixels at its home lies in view and inside its region. */
  function fitsHome(map, area, w, h) {
    var pt = map.latLngToContainerPoint(area.home), size = map.getSize();
    if (pt.x - w / 2 < 0 || pt.x + w / 2 > size.x || pt.y - h / 2 < 0 || pt.y + h / 2 > size.y) {
      return false;
    }
    return [[-w / 2, 0], [w / 2, 0]].every(function (e) {
      var ll = map.containerPointToLatLng([pt.x + e[0], pt.y + e[1]]);
      return inPolygons(ll.lat, ll.lng, area.polys);
    });
  }

  function relabel(state) {
    if (state.relabelQueued) { return; }
    state.relabelQueued = true;
    global.requestAnimationFrame(function () {
      state.relabelQueued = false;
      placeLabels(state);
    });
  }

  function placeLabels(state) {
    var map = state.map, zoom = map.getZoom(), size = map.getSize(), zooms = state.zooms;
    var placed = [], items = [];
    function free(r) {
      for (var k = 0; k < placed.length; k++) {
        var q = placed[k];
        if (r[0] < q[2] && r[2] > q[0] && r[1] < q[3] && r[3] > q[1]) { return false; }
      }
      return true;
    }
    /* obstacles: the site markers in view */
    state.markers.forEach(function (marker) {
      if (!map.hasLayer(marker)) { return; }
      var pt = map.latLngToContainerPoint(marker.getLatLng());
      if (pt.x < -20 || pt.y < -20 || pt.x > size.x + 20 || pt.y > size.y + 20) { return; }
      placed.push([pt.x - 11, pt.y - 11, pt.x + 11, pt.y + 11]);
    });
    /* obstacles: the controls */
    var box = map.getContainer().getBoundingClientRect();
    Array.prototype.forEach.call(map.getContainer().querySelectorAll(".leaflet-control, .fm-title"), function (node) {
      var r = node.getBoundingClientRect();
      if (r.width && r.height) {
        placed.push([r.left - box.left, r.top - box.top, r.right - box.left, r.bottom - box.top]);
      }
    });
    /* 1. named areas, along their line */
    var areas = state.overlays.areas;
    if (areas && map.hasLayer(areas)) {
      areas.fmLabels.forEach(function (label) {
        var a = map.latLngToContainerPoint(label.fmEnds[0]), b = map.latLngToContainerPoint(label.fmEnds[1]);
        var angle = Math.atan2(b.y - a.y, b.x - a.x) * 180 / Math.PI;
        if (angle > 90) { angle -= 180; } else if (angle < -90) { angle += 180; }
        items.push({ span: label.fmText, latlng: label.getLatLng(), hidden: zoom < zooms.areaLabels,
          centre: true, shifts: [0], rotate: angle });
      });
    }
    /* 2. country and region names: at home when they fit there, else inside the visible
       part of the area (from zoom 5), else at home */
    var regions = state.areaLabels.filter(function (a) { return a.kind === "region"; });
    state.areaLabels.forEach(function (a) {
      var rank = a.rank;
      var hidden = a.kind === "country" && (rank > 1 && zoom < 4.5 || rank > 2 && zoom < 6) ||
        a.kind === "region" && zoom < 5.5;
      var spot = a.home, wh = sizeOf(a.marker.fmText);
      if (!hidden && zoom >= 5 && wh[0] && !fitsHome(map, a, wh[0], wh[1])) {
        var exclude = a.kind === "country" ? regions.filter(function (r) {
          return r.bounds.intersects(a.bounds);
        }).map(function (r) { return r.polys; }) : [];
        spot = visibleSpot(map, a, wh[0], wh[1], exclude);
        if (!spot) { spot = a.home; hidden = !map.getBounds().contains(a.home) || exclude.length > 0 && exclude.some(function (polys) {
          return inPolygons(a.home.lat, a.home.lng, polys);
        }); }
      }
      if (!a.marker.getLatLng().equals(spot)) { a.marker.setLatLng(spot); }
      items.push({ span: a.marker.fmText, latlng: spot, hidden: hidden, centre: true, shifts: [0, -16, 16, -30, 30] });
    });
    /* 3. site names at high zoom */
    if (zoom >= zooms.siteLabels) {
      state.markers.forEach(function (marker) {
        if (!map.hasLayer(marker) || state.spread === marker.fmSite.key) { return; }
        var site = marker.fmSite, label = marker.fmLabel;
        var pt = map.latLngToContainerPoint(marker.getLatLng());
        if (pt.x < -60 || pt.y < -30 || pt.x > size.x + 60 || pt.y > size.y + 30) {
          if (label && map.hasLayer(label)) { map.removeLayer(label); }
          return;
        }
        if (!label) {
          label = marker.fmLabel = labelMarker(marker.getLatLng(), "fm-site-label",
            shortName(site.layer.p.names[site.i]), "fm-labels");
        }
        if (!map.hasLayer(label)) { label.addTo(map); }
        items.push({ span: label.fmText, latlng: marker.getLatLng(), offsets: [[13, null], [-13, null], [null, 12], [null, -12]] });
      });
    }
    state.markers.forEach(function (marker) {
      if (marker.fmLabel && map.hasLayer(marker.fmLabel) &&
          (zoom < zooms.siteLabels || !map.hasLayer(marker) || state.spread === marker.fmSite.key)) {
        map.removeLayer(marker.fmLabel);
      }
    });
    /* 4. distance and ring labels, along their line */
    Object.keys(state.overlays).forEach(function (slug) {
      var group = state.overlays[slug];
      if (!group.fmLabels || slug === "areas" || !map.hasLayer(group)) { return; }
      group.fmLabels.forEach(function (label) {
        var item = { span: label.fmText, latlng: label.getLatLng(), centre: true, shifts: [0, -14, 14] };
        if (label.fmPath) {
          item.hidden = zoom < zooms.distanceLabels;
          item.along = label.fmPath;
        }
        items.push(item);
      });
    });
    /* 5. towns: capitals, then the bigger first */
    updateTowns(state).forEach(function (marker) {
      items.push({ span: marker.fmText, latlng: marker.getLatLng(), town: true,
        offsets: [[6, null], [-6, null], [null, -5], [null, 5]] });
    });
    /* measure (reads) after every element is in the page, then place (writes) */
    items.forEach(function (item) {
      item.span.style.visibility = "hidden";
      item.span.style.transform = item.rotate ? "rotate(" + item.rotate.toFixed(1) + "deg)" : "";
    });
    items.forEach(function (item) { item.size = sizeOf(item.span); });
    items.forEach(function (item) {
      var span = item.span, w = item.size[0], h = item.size[1];
      var wrap = span.parentNode;
      if (wrap) { wrap.classList.remove("fm-placed"); }
      if (item.hidden || !w) { return; }
      var base = map.latLngToContainerPoint(item.latlng), tries = [];
      if (item.along) {
        [0.5, 0.38, 0.62, 0.28, 0.72].forEach(function (t) {
          var q = map.latLngToContainerPoint(item.along[Math.floor((item.along.length - 1) * t)]);
          tries.push([q.x - base.x - w / 2, q.y - base.y - h / 2]);
        });
      } else if (item.centre) {
        var bw = w, bh = h;
        if (item.rotate) {
          var r = Math.abs(item.rotate) * Math.PI / 180;
          bw = w * Math.cos(r) + h * Math.sin(r);
          bh = w * Math.sin(r) + h * Math.cos(r);
          item.box = [bw, bh];
        }
        item.shifts.forEach(function (dy) { tries.push([-w / 2, -h / 2 + dy]); });
        if (!item.rotate && !item.along) {
          [-1, 1].forEach(function (side) { tries.push([-w / 2 + side * (w / 2 + 14), -h / 2]); });
        }
      } else {
        item.offsets.forEach(function (o) {
          tries.push([o[0] === null ? -w / 2 : o[0] < 0 ? o[0] - w : o[0],
            o[1] === null ? -h / 2 : o[1] < 0 ? o[1] - h : o[1]]);
        });
      }
      for (var k = 0; k < tries.length; k++) {
        var x = base.x + tries[k][0], y = base.y + tries[k][1], rect;
        if (item.box) {
          var cx = x + w / 2, cy = y + h / 2;
          rect = [cx - item.box[0] / 2, cy - item.box[1] / 2, cx + item.box[0] / 2, cy + item.box[1] / 2];
        } else {
          rect = [x - 2, y - 1, x + w + 2, y + h + 1];
        }
        var margin = item.along ? -20 : 0;  // a distance label may stand a little outside
        if (rect[0] < margin || rect[1] < margin || rect[2] > size.x - margin ||
            rect[3] > size.y - margin) { continue; }
        if (free(rect)) {
          placed.push(rect);
          span.style.left = tries[k][0].toFixed(1) + "px";
          span.style.top = tries[k][1].toFixed(1) + "px";
          span.style.visibility = "visible";
          if (wrap) { wrap.classList.add("fm-placed"); }
          if (item.town) {
            placed.push([base.x - 3, base.y - 3, base.x + 3, base.y + 3]);
          }
          return;
        }
      }
    });
  }

