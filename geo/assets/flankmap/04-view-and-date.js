  /* ---------- the view in the URL: #map=ZOOM/LAT/LON&date=YYYY-MM-DD&layers=a,b ---------- */

  /* The window whose address holds the view: this one, or (inside an <iframe srcdoc>, whose
     own address is about:srcdoc) the host page when it is of the same origin; else null, and
     the view is neither read nor written. */
  function hashWindow() {
    try {
      if (!/^about:/.test(String(global.location.href))) { return global; }
      var parent = global.parent;
      if (parent && parent !== global && typeof parent.location.hash === "string" &&
          !/^about:/.test(String(parent.location.href))) { return parent; }
    } catch (e) { /* a cross-origin or sandboxed host: no view in the URL */ }
    return null;
  }

  var VIEW_RE = /^(\d{1,2}(?:\.\d{1,4})?)\/(-?\d{1,2}(?:\.\d{1,8})?)\/(-?\d{1,3}(?:\.\d{1,8})?)$/;
  var DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
  var SLUG_RE = /^[a-z0-9_-]{1,80}$/;

  /* A real day YYYY-MM-DD, or null. */
  function checkDay(text) {
    var m = DAY_RE.exec(String(text));
    if (!m) { return null; }
    var d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 &&
      d.getUTCDate() === Number(m[3]) ? m[0] : null;
  }

  /* The parts of a hash that are valid: {map: [zoom, lat, lon], date, layers: [slug]}; the
     rest is ignored. Nothing of it is ever put into the page. */
  function parseHash(hash) {
    var out = {};
    String(hash || "").replace(/^#/, "").split("&").forEach(function (part) {
      var eq = part.indexOf("="), key = part.slice(0, eq), value = part.slice(eq + 1);
      if (eq < 1) { return; }
      try { value = decodeURIComponent(value); } catch (e) { return; }
      if (key === "map") {
        var m = VIEW_RE.exec(value);
        if (!m) { return; }
        var zoom = Number(m[1]), lat = Number(m[2]), lon = Number(m[3]);
        if (zoom <= 20 && Math.abs(lat) <= 85.06 && Math.abs(lon) <= 180) { out.map = [zoom, lat, lon]; }
      } else if (key === "date") {
        var day = checkDay(value);
        if (day) { out.date = day; }
      } else if (key === "layers") {
        out.layers = value.split(",").filter(function (s) { return SLUG_RE.test(s); });
      }
    });
    return out;
  }

  /* The view as a hash: the zoom and the centre to a precision that the zoom shows. */
  function viewHash(state) {
    var map = state.map, zoom = map.getZoom(), c = map.getCenter().wrap();
    var digits = Math.max(2, Math.min(6, Math.ceil(Math.log(Math.pow(2, zoom) * 256 / 360) / Math.LN10) + 1));
    var parts = ["map=" + Number(zoom.toFixed(2)) + "/" + c.lat.toFixed(digits) + "/" + c.lng.toFixed(digits)];
    if (state.day) { parts.push("date=" + state.day); }
    var shown = Object.keys(state.overlays).filter(function (slug) {
      return map.hasLayer(state.overlays[slug]);
    });
    if (shown.join(",") !== state.defaultLayers.join(",")) { parts.push("layers=" + shown.join(",")); }
    return "#" + parts.join("&");
  }

  /* Open the view of the address (after the map was fitted), then keep the address up to
     date as the map moves, with history.replaceState: no reload, no new history entry. Only
     the first map of a page owns the address. */
  function setupHash(state) {
    var win = fm.maps[0] === state ? hashWindow() : null;
    state.defaultLayers = Object.keys(state.overlays).filter(function (slug) {
      return state.map.hasLayer(state.overlays[slug]);
    });
    if (!win) { return; }
    function apply(hash) {
      var wanted = parseHash(hash);
      if (wanted.layers) {
        Object.keys(state.overlays).forEach(function (slug) {
          var layer = state.overlays[slug], on = wanted.layers.indexOf(slug) >= 0;
          if (on && !state.map.hasLayer(layer)) { state.map.addLayer(layer); }
          if (!on && state.map.hasLayer(layer)) { state.map.removeLayer(layer); }
        });
      }
      if (wanted.date && state.setDay) { state.setDay(wanted.date); }
      if (wanted.map) {
        state.map.setView([wanted.map[1], wanted.map[2]], wanted.map[0], { animate: false });
      }
      return wanted;
    }
    var wanted = apply(win.location.hash);
    /* a link edited in the address bar or followed within the page */
    win.addEventListener("hashchange", function () {
      if (win.location.hash !== state.hashWritten) { apply(win.location.hash); }
    });
    function write() {
      var text = viewHash(state);
      if (text === win.location.hash) { return; }
      state.hashWritten = text;
      try {
        win.history.replaceState(win.history.state, "", text);
      } catch (e) { /* an address that cannot change: the view stays out of it */ }
    }
    state.writeHash = write;
    state.map.on("moveend overlayadd overlayremove", write);
    if (wanted.map || wanted.date || wanted.layers) { write(); }
  }

  /* ---------- the date: the slider's day and what follows it ---------- */

  /* Whether site i of a layer is in service on a day (YYYY-MM-DD strings compare as dates). */
  function activeOn(layer, i, day) {
    if (!day || !layer.since) { return true; }
    var first = layer.since[i], last = layer.until[i];
    return (!first || first <= day) && (!last || day <= last);
  }

  /* A site's status row [first_day, status, look] on a day, or null when it has none. */
  function stepOn(layer, i, day) {
    var steps = layer.st ? layer.st[i] : null;
    if (!steps || !steps.length || !day) { return null; }
    var current = steps[0];
    for (var k = 1; k < steps.length; k++) { if (steps[k][0] <= day) { current = steps[k]; } }
    return current;
  }

  /* The frontier state of a day: the last that starts on or before it. */
  function frontierState(timeline, day) {
    var found = timeline.states[0];
    timeline.states.forEach(function (s) { if (s.start <= day) { found = s; } });
    return found;
  }

  /* A site's nearest opposing point in the state shown: [metres, lat, lon, label, border],
     null when it has none, undefined when the timeline does not cover its layer. */
  function distanceOn(state, layer, i) {
    var rows = state.frontierState ? state.frontierState.to[layer.slug] : null;
    return rows ? rows[i] : undefined;
  }

  function dayNumber(day) {
    var m = DAY_RE.exec(day);
    return Math.round(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 86400000);
  }

  function dayText(n) { return new Date(n * 86400000).toISOString().slice(0, 10); }

  function countText(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }

  /* A site's change between the compare date (data.changesSince) and the day shown:
     "added" (in service on the day, not on that date), "ended" (the reverse) or "". */
  function changeOn(layer, i, from, day) {
    if (!from || !layer.since) { return ""; }
    var was = activeOn(layer, i, from), now = activeOn(layer, i, day);
    return now && !was ? "added" : was && !now ? "ended" : "";
  }

  /* The marker of a changed site: its symbol in a ring (added) or faded (ended). */
  function changeHtml(html, change) {
    return change ? '<span class="fm-change fm-' + change + '">' + html + "</span>" : html;
  }

  /* Say a site's change in its marker's accessible name (the tooltip says it on sight). */
  function nameChange(marker) {
    var node = marker.getElement(), site = marker.fmSite;
    if (!node || !site.change) { return; }
    var label = site.layer.p.names[site.i] + " (" + site.layer.legend + "), " + site.change +
      " since " + site.from;
    node.setAttribute("aria-label", label);
    node.setAttribute("data-change", site.change);
  }

  var CHANGE_SVG = '<svg width="16" height="16" viewBox="0 0 20 20" aria-hidden="true" focusable="false">' +
    '<path d="M10 3a7 7 0 1 0 0.001 0z" fill="#777" stroke="#fff" stroke-width="1.5"/></svg>';

  /* Show the map on a day: the sites in service and their status, the NATO members and the
     frontier of that day, each site's distance line (measured in Python for the state), the
     counts, the legend and the title. */
  function setDay(state, wanted) {
    var tl = state.timeline, data = state.data;
    var day = wanted < tl.start ? tl.start : wanted > tl.end ? tl.end : wanted;
    state.day = day;
    var fs = state.frontierState = frontierState(tl, day);
    var map = state.map;
    collapse(state);
    map.closePopup();
    /* sites */
    var counts = {}, sites = 0, layersShown = 0, userPoints = 0;
    var from = data.changesSince && day > data.changesSince ? data.changesSince : "";
    var changed = { added: 0, ended: 0 };
    /* layers the slider does not date (big user layers, files without dates) keep their count */
    Object.keys(state.counts).forEach(function (slug) { counts[slug] = state.counts[slug]; });
    state.stackCounts = {};
    data.overlays.forEach(function (ov) {
      if (ov.type !== "sites" || ov.bulk || !ov.fmParts) { return; }
      for (var i = 0; i < ov.lat.length; i++) {
        if (activeOn(ov, i, day)) {
          var key = stackKey(ov.lat[i], ov.lon[i]);
          state.stackCounts[key] = (state.stackCounts[key] || 0) + 1;
        }
      }
    });
    data.overlays.forEach(function (ov) {
      if (ov.type !== "sites" || ov.bulk || !ov.fmParts) { return; }
      var group = state.overlays[ov.slug], n = 0;
      ov.fmParts.forEach(function (parts, i) {
        var on = activeOn(ov, i, day), marker = parts.marker, site = marker.fmSite;
        var change = changeOn(ov, i, from, day);
        parts.forEach(function (part) {
          /* an ended site keeps its marker, faded, without its area or line */
          var shown = on || (change === "ended" && part === marker);
          if (shown && !group.hasLayer(part)) { group.addLayer(part); }
          if (!shown && group.hasLayer(part)) { group.removeLayer(part); }
        });
        if (change) { changed[change]++; }
        if (!on && !change) { return; }
        if (on) { n++; }
        if (!site.plain) { site.plain = site.html; }
        var step = stepOn(ov, i, on ? day : ov.until[i]);
        var html = changeHtml(step ? ov.fmSvgs[step[2]] || site.plain : site.plain, change);
        var count = on ? state.stackCounts[site.key] || 1 : 1;
        var changeNow = site.change !== change || site.from !== from;
        site.change = change;
        site.from = from;
        if (html !== site.html || count !== site.count) {
          site.html = html;
          site.count = count;
          marker.setIcon(siteIcon(html, null, count));
          nameMarker({ target: marker });
        }
        if (change && !site.namesChange) {
          site.namesChange = true;
          marker.on("add", function () { nameChange(marker); });
        }
        nameChange(marker);
        var row = distanceOn(state, ov, i), name = ov.p.names[i], tip = null;
        if (row !== undefined && ov.p.tips) {
          tip = row ? name + " · " + row[3] + " to the frontier" : name;
        } else if (changeNow) {
          tip = ov.p.tips ? ov.p.tips[i] : name;
        }
        if (change === "added") { tip = (tip || name) + " · added since " + from; }
        if (change === "ended") { tip = name + " · ended: in service on " + from + ", not on " + day; }
        if (tip !== null) { marker.setTooltipContent(tooltipContent(tip)); }
      });
      group.count = n;
      counts[ov.slug] = n;
      if (!ov.user) {
        sites += n;
        if (n) { layersShown++; }
      }
      if (group.fmLabel) { group.fmLabel.text = String(ov.label).replace(/\([\d,]+\)$/, "(" + countText(n) + ")"); }
    });
    state.counts = counts;
    data.overlays.forEach(function (ov) { if (ov.type === "sites" && ov.user) { userPoints += counts[ov.slug] || 0; } });
    /* NATO shading */
    var styles = data.basemap.styles, west = {};
    fs.west.forEach(function (code) { west[code] = true; });
    state.countries.forEach(function (c) {
      var group = c.group === "east" ? "east" : west[c.code] ? "west" : "other";
      if (group === c.shown) { return; }
      c.shown = group;
      var st = styles[group] || styles.other;
      c.polygon.setStyle({ color: st.stroke, fillColor: st.fill });
    });
    /* the frontier */
    var front = state.overlays.frontier, frontOv = state.overlayData.frontier;
    if (front && frontOv) {
      var lines = [];
      fs.pairs.forEach(function (pair) { lines = lines.concat(tl.pairs[pair] || []); });
      front.fmSet(lines, fs.detail);
    }
    /* the distance lines: the shipped sites' rows of this state, the added files' as built */
    var near = [], far = [];
    data.overlays.forEach(function (ov) {
      if (ov.type !== "sites" || ov.bulk) { return; }
      for (var i = 0; i < ov.lat.length; i++) {
        var row = distanceOn(state, ov, i);
        if (!row || !activeOn(ov, i, day)) { continue; }
        var tip = ov.p.names[i] + ": " + row[3] + " to the nearest point of the opposing side" +
          (row[4] ? " (" + row[4] + ")" : "");
        (row[0] <= tl.nearKm * 1000 ? near : far).push([ov.lat[i], ov.lon[i], row[1], row[2], row[3], tip]);
      }
    });
    ["distances", "distances-far"].forEach(function (slug, k) {
      var group = state.overlays[slug], ov = state.overlayData[slug];
      if (!group || !ov) { return; }
      var left = {};  // the dated user points in service at each place, one line each
      var keep = ov.lines.filter(function (d) {
        var key = stackKey(d[0], d[1]);
        if (state.timedSites[key]) { return false; }
        var dated = state.userDated[key];
        if (!dated) { return true; }
        if (!(key in left)) {
          left[key] = dated.filter(function (site) { return activeOn(site[0], site[1], day); }).length;
        }
        return left[key]-- > 0;
      });
      var fresh = addDistances(L.extend({}, ov, { lines: keep.concat(k ? far : near) }));
      group.clearLayers();
      group.fmLabels = fresh.fmLabels;
      fresh.eachLayer(function (layer) { group.addLayer(layer); });
      if (group.fmLabel) {
        group.fmLabel.text = String(ov.label).replace(/\([\d,]+\)$/, "(" + countText(keep.length + (k ? far : near).length) + ")");
      }
    });
    /* words: title, subtitle, legend */
    if (state.titleDate) { state.titleDate.textContent = day; }
    var sub = String(data.subtitle).replace(/^[\d,]+ sites in \d+ layers/,
      countText(sites) + " sites in " + layersShown + " layers").replace(/ · [\d,]+ added points in /,
      " · " + countText(userPoints) + " added points in ");
    if (state.subtitle) { state.subtitle.textContent = sub; }
    if (state.legend && state.legend.fmAbout) { state.legend.fmAbout.textContent = sub; }
    Object.keys(state.legendWords || {}).forEach(function (key) {
      var node = state.legendWords[key];
      if (key === "countries") { node.textContent = "Countries on " + day; }
      if (key === "west") { node.textContent = "NATO member on " + day; }
      if (key === "frontier") { node.textContent = fs.legend; }
      if (key === "added" || key === "ended") {
        node.textContent = (key === "added" ? "Added" : "Ended (faded)") + " since " + data.changesSince +
          (from ? " (" + countText(changed[key]) + ")" : ": none before " + data.changesSince);
      }
    });
    if (state.layerControl) { state.layerControl._update(); }
    if (state.slider) { state.slider.show(day); }
    orderMarkers(state);
    updateCircles(state);
    relabel(state);
    if (state.writeHash) { state.writeHash(); }
    map.fire("fmday", { day: day });
  }
  fm.setDay = setDay; /* for the browser tests, as formatKm and kmText */

  var ICON_PLAY = '<svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" focusable="false">' +
    '<path d="M3 1.5v11l9-5.5z" fill="#333"/></svg>';
  var ICON_PAUSE = '<svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" focusable="false">' +
    '<path d="M3 1.5h3v11H3zM8 1.5h3v11H8z" fill="#333"/></svg>';

  /* The date slider: every day of the span (arrows move a day, PageUp/PageDown an event), the
     events as ticks, a play button that steps through the events. */
  var SliderControl = L.Control.extend({
    options: { position: "bottomleft" },
    initialize: function (state) { this._state = state; },
    onAdd: function () {
      var state = this._state, tl = state.timeline, self = this;
      var box = L.DomUtil.create("div", "fm-slider");
      this._first = dayNumber(tl.start);
      this._events = tl.events.map(function (e) { return dayNumber(e[0]) - self._first; });
      this._play = iconButton(box, "Play the events", ICON_PLAY, function () { self.toggle(); });
      this._play.className = "fm-slider-play";
      var track = el("div", "fm-slider-track", null, box);
      var input = this._input = el("input", "fm-slider-input", null, track);
      input.type = "range";
      input.min = "0";
      input.max = String(dayNumber(tl.end) - this._first);
      input.step = "1";
      input.setAttribute("aria-label", "Date shown on the map (arrows: a day; Page Up, Page Down: an event)");
      var ticks = el("div", "fm-slider-ticks", null, track);
      ticks.setAttribute("aria-hidden", "true");
      var span = Math.max(1, Number(input.max));
      tl.events.forEach(function (e, k) {
        var tick = el("span", "fm-slider-tick", null, ticks);
        tick.style.left = (100 * self._events[k] / span).toFixed(3) + "%";
        tick.title = e[0] + ": " + e[1];  // an attribute value, never markup
      });
      this._out = el("output", "fm-slider-date", null, box);
      this._out.setAttribute("aria-live", "polite");
      L.DomEvent.on(input, "input change", function () {
        setDay(state, dayText(self._first + Number(input.value)));
      });
      L.DomEvent.on(input, "keydown", function (e) {
        var dir = e.key === "PageUp" ? 1 : e.key === "PageDown" ? -1 : 0;
        if (!dir) { return; }
        L.DomEvent.preventDefault(e);
        self.step(dir);
      });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      this._box = box;
      return box;
    },
    /* To the next (1) or previous (-1) event; false when there is none. */
    step: function (dir) {
      var now = Number(this._input.value), target = null;
      this._events.forEach(function (e) {
        if (dir > 0 && e > now && (target === null || e < target)) { target = e; }
        if (dir < 0 && e < now && (target === null || e > target)) { target = e; }
      });
      if (target === null) { return false; }
      setDay(this._state, dayText(this._first + target));
      return true;
    },
    toggle: function () {
      var self = this;
      if (this._timer) { this.stop(); return; }
      if (!this._events.some(function (e) { return e > Number(self._input.value); })) {
        setDay(this._state, this._state.timeline.start);
      }
      this._play.innerHTML = ICON_PAUSE;  // constant SVG
      this._play.setAttribute("aria-label", "Pause");
      this._play.title = "Pause";
      this._timer = global.setInterval(function () { if (!self.step(1)) { self.stop(); } }, 900);
    },
    stop: function () {
      if (this._timer) { global.clearInterval(this._timer); }
      this._timer = null;
      this._play.innerHTML = ICON_PLAY;  // constant SVG
      this._play.setAttribute("aria-label", "Play the events");
      this._play.title = "Play the events";
    },
    show: function (day) {
      this._input.value = String(dayNumber(day) - this._first);
      this._input.setAttribute("aria-valuetext", day);
      this._out.textContent = day;
    }
  });

  /* ---------- the whole map ---------- */

  fm.maps = [];

  fm.render = function (map, data) {
    var state = {
      map: map, overlays: {}, counts: {}, markers: [], clouds: [], stacks: {}, stackCounts: {},
      search: [], searchLater: [], zooms: data.zooms, spread: null, selected: null, data: data,
      timeline: data.timeline || null, overlayData: {}, timedSites: {}, userDated: {}
    };
    fm.maps.push(state);
    if (map.attributionControl) { map.attributionControl.setPrefix(false); }
    /* Lines and areas are no tab stops (Chromium makes their SVG paths focusable). */
    map.on("layeradd", function (e) {
      var node = e.layer instanceof L.Path && e.layer.getElement ? e.layer.getElement() : null;
      if (node) { node.setAttribute("tabindex", "-1"); node.setAttribute("focusable", "false"); }
    });
    var control = new LayerControl(null, null, { collapsed: true, position: "topright" });
    var notices = el("div", "fm-notice leaflet-control");
    notices.setAttribute("role", "status");
    notices.style.display = "none";
    function notice(text) { notices.textContent = text; notices.style.display = "block"; }
    addBasemap(state, data.basemap);
    if (data.tiles) {
      var tiles = addTiles(map, data.tiles, notice);
      if (tiles) {
        tiles.fmLabel = { svg: "", text: "Online tiles: " + data.tiles.name };
        control.addOverlay(tiles, "");
        state.overlays.tiles = tiles;
      }
    } else if (map.attributionControl) {
      map.attributionControl.remove();
    }
    state.circles = L.layerGroup().addTo(map);
    state.selection = L.layerGroup().addTo(map);
    /* sites at one point: counted first, so that each marker shows the count */
    data.overlays.forEach(function (ov) {
      if (ov.type !== "sites" || ov.bulk) { return; }
      for (var i = 0; i < ov.lat.length; i++) {
        var key = stackKey(ov.lat[i], ov.lon[i]);
        state.stackCounts[key] = (state.stackCounts[key] || 0) + 1;
      }
    });
    var legend = [];
    data.overlays.forEach(function (ov) {
      var layer = makeOverlay(state, ov);
      if (ov.show !== false) { layer.addTo(map); }
      var svg = overlaySvg(ov);
      ov.fmSvg = svg;
      layer.fmLabel = { svg: svg, text: ov.label };
      control.addOverlay(layer, "");
      state.overlays[ov.slug] = layer;
      state.overlayData[ov.slug] = ov;
      if (ov.type === "sites" && state.timeline && state.timeline.states[0].to[ov.slug]) {
        for (var i = 0; i < ov.lat.length; i++) { state.timedSites[stackKey(ov.lat[i], ov.lon[i])] = true; }
      }
      if (ov.type === "sites" && ov.user && ov.since && !ov.bulk) {
        for (var j = 0; j < ov.lat.length; j++) {
          var key = stackKey(ov.lat[j], ov.lon[j]);
          (state.userDated[key] = state.userDated[key] || []).push([ov, j]);
        }
      }
      if (ov.type === "sites") { state.counts[ov.slug] = layer.count; }
    });
    /* legend: what changed (a compare page's later map), basemap shading, then the analysis,
       then the site layers and their certainty */
    if (data.changesSince && state.timeline) {
      legend.push({ section: "Changes since " + data.changesSince });
      legend.push({ svg: changeHtml(CHANGE_SVG, "added"), label: "Added since " + data.changesSince, key: "added" });
      legend.push({ svg: changeHtml(CHANGE_SVG, "ended"), label: "Ended since " + data.changesSince, key: "ended" });
    }
    legend.push({ section: "Countries on " + data.date, key: "countries" });
    data.basemap.legend.forEach(function (item) {
      var st = data.basemap.styles[item[0]];
      legend.push({ svg: swatchSvg(st.fill, st.stroke), label: item[1],
        key: item[0] === "west" ? "west" : null });
    });
    var analysis = data.overlays.filter(function (ov) { return ov.type !== "sites" && ov.legend; });
    if (analysis.length) { legend.push({ section: "Analysis" }); }
    analysis.forEach(function (ov) {
      legend.push({ svg: ov.fmSvg, label: ov.legend, key: ov.type === "frontier" ? "frontier" : null });
    });
    var sites = data.overlays.filter(function (ov) { return ov.type === "sites"; });
    if (sites.length) { legend.push({ section: "Sites" }); }
    sites.forEach(function (ov) { legend.push({ svg: ov.fmSvg, label: ov.legend }); });

    if (data.certainty && data.certainty.length) {
      legend.push({ section: "How sure" });
      data.certainty.forEach(function (row) {
        legend.push({ svg: symbolSvg(CIRCLE, row[0], 16), label: row[1] });
      });
    }
    legend.push({ svg: CIRCLE_SVG, label: "Coordinate uncertainty (geodesic): around the " +
      "selected site, around every site from zoom " + data.zooms.uncertainty });
    legend.push({ section: "Data", cls: "fm-legend-data" });
    legend.push({ svg: "", label: data.attribution, cls: "fm-legend-data" });
    /* controls, in keyboard order: search and tools, layers, legend */
    new SearchControl(state).addTo(map);
    state.measure = new MeasureControl(state).addTo(map);
    new FullscreenControl().addTo(map);
    control.addTo(map);
    new AttributionControl(data.attribution, data.attributionShort).addTo(map);
    state.legend = new LegendControl(legend, data.subtitle).addTo(map);
    state.legendWords = state.legend.words;
    state.layerControl = control;
    L.control.scale({ imperial: false, maxWidth: 140, position: "bottomleft" }).addTo(map);
    state.title = addTitle(state, data);
    if (state.timeline) {
      state.slider = new SliderControl(state).addTo(map);
      state.setDay = function (day) { setDay(state, day); };
      setDay(state, data.date);
    }
    map.getContainer().appendChild(notices);
    /* Tab order: the title and the controls come before the map's sites. */
    var container = map.getContainer();
    var corners = container.querySelector(".leaflet-control-container");
    if (corners) { container.insertBefore(corners, container.firstChild); }
    container.insertBefore(state.title, container.firstChild);
    container.setAttribute("aria-label", data.title + ": interactive map");
    orderMarkers(state);
    function detail() {
      var c = map.getContainer();
      c.setAttribute("data-zoom", String(Math.round(map.getZoom())));
    }
    map.on("zoomstart", function () { collapse(state); });
    map.on("click", function () { collapse(state); });
    map.on("zoomend", detail);
    map.on("zoomend moveend overlayadd overlayremove fmlegend", function () {
      updateCircles(state);
      relabel(state);
    });
    map.on("overlayadd", function () { orderMarkers(state); });
    function fit(printing) {
      if (data.bounds) { map.fitBounds(data.bounds, L.extend({ animate: false }, fitPadding(state))); }
      if (!printing && !state.hashReady) {
        state.hashReady = true;
        setupHash(state);
      }
      detail();
      updateCircles(state);
      if (printing) { placeLabels(state); } else { relabel(state); }
    }
    state.fit = fit;
    setupPrint(state, fit);
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
