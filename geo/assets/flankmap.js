/*
 * flankmap map runtime (part of flankmap, MIT licence).
 *
 * Draws what geo/maps.py embeds: the vector basemap with place names, the frontier, the named
 * areas, the site layers, the distance lines and range rings, and the controls (title, legend,
 * layer control, search, geodesic measuring tool, fullscreen button). Needs Leaflet 1.9,
 * inlined beside it. Lays itself out by media queries (flankmap.css and LEGEND_FOLDED below),
 * never by sniffing the browser.
 *
 * Safety rule: every string that comes from data reaches the page through textContent (or as
 * an attribute value), never as HTML. innerHTML only takes SVG built here from constants and
 * from values checked against a pattern (colours, SVG paths, dash arrays, numbers).
 *
 * The data: flankmap.render(map, data), with data as described by the TypedDicts of
 * geo/maps.py (MapData and what it holds):
 *
 * @typedef {Object} MapData
 * @property {string} title, date, subtitle, attribution
 * @property {{distanceLabels:number, siteLabels:number, uncertainty:number, areaLabels:number}} zooms
 * @property {Array<Array<number>>} bounds       [[south, west], [north, east]]
 * @property {Basemap} basemap
 * @property {?{name:string, url:string, attribution:string, maxZoom:number}} tiles
 * @property {Array<Overlay>} overlays           dispatched on .type through OVERLAY_TYPES
 * @property {Array<Array>} certainty            legend rows [look, text]
 * @property {?Timeline} timeline                the slider's dates (absent: one date only)
 *
 * @typedef {Object} Timeline
 * @property {string} start, end                 YYYY-MM-DD, the span of the slider
 * @property {number} nearKm                     distance lines shown by default up to this
 * @property {Array} events                      [date, text], the ticks
 * @property {Object<string, Array>} pairs       frontier part ("FIN-RUS") to its lines
 * @property {Array} states                      {start, west: [iso_a3], pairs: [part], legend,
 *                                               to: {slug: [[metres, lat, lon, label, border]
 *                                               or null per site]}}, one per NATO accession
 *
 * @typedef {Object} Basemap
 * @property {number} scale                      integers per degree of the codes
 * @property {boolean} tiles                     online tiles under it: fill is translucent
 * @property {Object<string, {fill, stroke, weight, fillOpacityTiles}>} styles  by group
 * @property {Array} countries                   [iso_a3, "west"|"east"|"other", polygons]
 * @property {Array} labels                      [name, lat, lon, rank], one per country
 * @property {Array} regions                     [name, lat, lon, polygons] (scale 100)
 * @property {{zooms:Array<number>, towns:Array}} places  towns [name, lat, lon, tier]
 * @property {Array} legend                      [group, text]
 *
 * Codes: a delta-encoded ring [x0, y0, dx1, dy1, ...] of integers, lon/lat times the scale;
 * polygons: a list of polygons, each a list of rings.
 *
 * @typedef {Object} Overlay  (common: type, slug, label, legend; optional show:false)
 *   frontier:  scale, style, casing, lines [{coords:[codes], tooltip}]
 *   distances: style, lines [[lat, lon, to_lat, to_lon, label, tooltip]]
 *   rings:     scale, style, rings [[codes, colour, tooltip, label, label_lat, label_lon]]
 *   areas:     scale, style, areas [{name, text, lines:[codes], sources}]
 *   sites:     user, colour, symbol (SVG path on 20 x 20), bulk, lat[], lon[], scale,
 *              areas (per site polygons or null), lines (per site [codes] or null), looks [[colour, hollow, fill_opacity, dash,
 *              outline_width, badge]], look[] (index per site; absent: all 0), unc[] (metres),
 *              to[] ([lat, lon] of the nearest opposing point, or null), since[], until[]
 *              (first and last day, "" when open), st[] ([[first_day, status, look]] or []),
 *              p (Popup), pts (a big user layer in binary: geo.maps.BulkPoints; lat, lon,
 *              look, the names and ids are then decoded from it, p.rows are per group of points)
 *   Popup:     names[], ids[], fields[], fixed {field index: value}, rows[][] (the values of
 *              the other fields), sources [[title, url, publisher, accessed]] per site,
 *              notes[], timeline [[date, status, event]] per site, aka[] (aliases),
 *              sub or subs[], tips[]
 */
(function (global) {
  "use strict";
  var L = global.L;
  var fm = {};
  var own = Object.prototype.hasOwnProperty;

  /* ---------- small helpers ---------- */

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

  /* Text folded for search: lower case, no accents, ł as l and so on. */
  var FOLD = { "ł": "l", "ø": "o", "đ": "d", "ı": "i", "ß": "ss", "æ": "ae", "œ": "oe" };
  function fold(text) {
    return String(text || "").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[łøđıßæœ]/g, function (c) { return FOLD[c]; });
  }

  function number(value, low, high, fallback) {
    var x = Number(value);
    return isFinite(x) ? Math.min(high, Math.max(low, x)) : fallback;
  }

  /* A short label for a site: its name up to the first comma or parenthesis. */
  function shortName(name) {
    var text = String(name).split(/, | \(/)[0];
    return text.length > 34 ? text.slice(0, 33) + "…" : text;
  }

  /* ---------- symbols (inline SVG, no icon fonts, no images) ---------- */

  var COLOUR_RE = /^#[0-9a-fA-F]{6}$/;
  var PATH_RE = /^[MLHVZACmlhvzac0-9 .,\-]+$/;
  var DASH_RE = /^[0-9. ]*$/;
  var CIRCLE = "M10 2a8 8 0 1 0 0.001 0z";
  var BADGE = '<circle cx="16.5" cy="3.5" r="4.3" fill="#ffffff" stroke="#1a1a1a" ' +
    'stroke-width="0.9"/><text x="16.5" y="6.1" font-size="7.5" font-weight="bold" ' +
    'font-family="sans-serif" text-anchor="middle" fill="#1a1a1a">?</text>';

  /* The SVG of a symbol: a path on a 20 x 20 box (geo/styles.py) drawn with a look
     [colour, hollow, fill_opacity, dash, outline_width, badge] (geo.styles.Mark). Every part
     is checked, so the string is safe as HTML. */
  function symbolSvg(path, look, size) {
    var d = PATH_RE.test(path) ? path : CIRCLE;
    var colour = COLOUR_RE.test(look[0]) ? look[0] : "#555555";
    var hollow = look[1] === 1;
    var opacity = number(look[2], 0, 1, 1);
    var dash = typeof look[3] === "string" && DASH_RE.test(look[3]) ? look[3].trim() : "";
    var width = number(look[4], 0.5, 4, 1.5);
    var s = size || 20;
    var under = hollow || opacity >= 1 ? "" : '<path d="' + d + '" fill="#ffffff"/>';
    return '<svg class="fm-symbol" width="' + s + '" height="' + s + '" viewBox="0 0 20 20" ' +
      'aria-hidden="true" focusable="false">' + under + '<path d="' + d + '" fill="' +
      (hollow ? "#ffffff" : colour) + '" fill-opacity="' + (hollow ? 1 : opacity) +
      '" stroke="' + (hollow ? colour : "#1a1a1a") + '" stroke-width="' + width + '"' +
      (dash ? ' stroke-dasharray="' + dash + '"' : "") + ' stroke-linejoin="round"/>' +
      (look[5] === "?" ? BADGE : "") + "</svg>";
  }

  function lineSvg(colour, dash, width, casing) {
    var c = COLOUR_RE.test(colour) ? colour : "#555555";
    var d = dash && DASH_RE.test(dash) ? ' stroke-dasharray="' + dash + '"' : "";
    var w = number(width, 0.5, 14, 2);
    var under = casing && COLOUR_RE.test(casing) ? '<line x1="1" y1="10" x2="27" y2="10" ' +
      'stroke="' + casing + '" stroke-width="' + (w + 3) + '"/>' : "";
    return '<svg class="fm-symbol" width="28" height="20" viewBox="0 0 28 20" aria-hidden="true" ' +
      'focusable="false">' + under + '<line x1="1" y1="10" x2="27" y2="10" stroke="' + c +
      '" stroke-width="' + w + '"' + d + "/></svg>";
  }

  function swatchSvg(fill, stroke) {
    var f = COLOUR_RE.test(fill) ? fill : "#eeeeee", s = COLOUR_RE.test(stroke) ? stroke : "#999999";
    return '<svg class="fm-symbol" width="22" height="16" viewBox="0 0 22 16" aria-hidden="true" ' +
      'focusable="false"><rect x="1" y="1" width="20" height="14" fill="' + f + '" stroke="' + s +
      '" stroke-width="1.2"/></svg>';
  }

  var CIRCLE_SVG = '<svg class="fm-symbol" width="22" height="22" viewBox="0 0 22 22" ' +
    'aria-hidden="true" focusable="false"><circle cx="11" cy="11" r="9" fill="#555555" ' +
    'fill-opacity="0.08" stroke="#333333" stroke-width="1.2" stroke-dasharray="3 2"/>' +
    '<circle cx="11" cy="11" r="2.5" fill="#333333"/></svg>';

  /* ---------- geodesy (WGS84, Vincenty's formulae) ---------- */

  var WGS84_A = 6378137.0, WGS84_F = 1 / 298.257223563, WGS84_B = WGS84_A * (1 - WGS84_F);
  var RAD = Math.PI / 180;

  function haversine(lat1, lon1, lat2, lon2) {
    var dLat = (lat2 - lat1) * RAD, dLon = (lon2 - lon1) * RAD;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
  }

  /* Geodesic distance in metres between two points on the WGS84 ellipsoid (inverse problem). */
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

  /* The point at a distance (metres) and an initial azimuth (degrees) from a point on the
     WGS84 ellipsoid (direct problem, Vincenty 1975): [lat, lon]. */
  function geodesicDestination(lat, lon, azimuthDeg, metres) {
    var f = WGS84_F, a = WGS84_A, b = WGS84_B;
    var alpha1 = azimuthDeg * RAD, sinA1 = Math.sin(alpha1), cosA1 = Math.cos(alpha1);
    var tanU1 = (1 - f) * Math.tan(lat * RAD), cosU1 = 1 / Math.sqrt(1 + tanU1 * tanU1);
    var sinU1 = tanU1 * cosU1;
    var sigma1 = Math.atan2(tanU1, cosA1);
    var sinA = cosU1 * sinA1, cos2A = 1 - sinA * sinA;
    var uSq = cos2A * (a * a - b * b) / (b * b);
    var A = 1 + uSq / 16384 * (4096 + uSq * (-768 + uSq * (320 - 175 * uSq)));
    var B = uSq / 1024 * (256 + uSq * (-128 + uSq * (74 - 47 * uSq)));
    var sigma = metres / (b * A), prev, iter = 0, cos2Sm, sinS, cosS;
    do {
      cos2Sm = Math.cos(2 * sigma1 + sigma);
      sinS = Math.sin(sigma);
      cosS = Math.cos(sigma);
      var dS = B * sinS * (cos2Sm + B / 4 * (cosS * (-1 + 2 * cos2Sm * cos2Sm) -
        B / 6 * cos2Sm * (-3 + 4 * sinS * sinS) * (-3 + 4 * cos2Sm * cos2Sm)));
      prev = sigma;
      sigma = metres / (b * A) + dS;
    } while (Math.abs(sigma - prev) > 1e-12 && ++iter < 100);
    sinS = Math.sin(sigma);
    cosS = Math.cos(sigma);
    cos2Sm = Math.cos(2 * sigma1 + sigma);
    var x = sinU1 * sinS - cosU1 * cosS * cosA1;
    var lat2 = Math.atan2(sinU1 * cosS + cosU1 * sinS * cosA1, (1 - f) * Math.sqrt(sinA * sinA + x * x));
    var lam = Math.atan2(sinS * sinA1, cosU1 * cosS - sinU1 * sinS * cosA1);
    var C = f / 16 * cos2A * (4 + f * (4 - 3 * cos2A));
    var Lw = lam - (1 - C) * f * sinA *
      (sigma + C * sinS * (cos2Sm + C * cosS * (-1 + 2 * cos2Sm * cos2Sm)));
    return [lat2 / RAD, ((lon + Lw / RAD + 540) % 360) - 180];
  }
  fm.geodesicDestination = geodesicDestination;

  /* A geodesic circle: the points at a distance from a centre, every 360/n degrees. */
  function geodesicCircle(lat, lon, metres, n) {
    var out = [];
    for (var i = 0; i < n; i++) { out.push(geodesicDestination(lat, lon, i * 360 / n, metres)); }
    return out;
  }

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

  /* The km text of geo.maps.format_km (a browser test ties the two). */
  /* x with d decimals as Python writes it: correctly rounded, an exact tie to the even digit
   * (toFixed breaks a tie upwards). toFixed(100) is the exact decimal value of x for any
   * x above 2^-48, so a tie is seen exactly. */
  function fixedEven(x, d) {
    var text = x.toFixed(d), exact = x.toFixed(100);
    var point = exact.indexOf("."), keep = point + (d ? 1 + d : 0);
    if (!/^50*$/.test(exact.slice(point + 1 + d))) { return text; }
    var low = exact.slice(0, keep);
    return Number(low.charAt(low.length - 1)) % 2 === 0 ? low : text;
  }

  /* A distance in km: the rule of geo/text.py km_label (a browser test ties the two). */
  function formatKm(metres) {
    if (!isFinite(metres)) { return ""; }
    var km = metres / 1000;
    if (km < 10) { return fixedEven(km, 2) + " km"; }
    if (km < 100) { return fixedEven(km, 1) + " km"; }
    return fixedEven(km, 0).replace(/\B(?=(\d{3})+(?!\d))/g, ",") + " km";
  }
  fm.formatKm = formatKm;

  /* The text of a distance code of geo.maps._km_codes: the digits of km_label, already
     rounded in Python; "" for 0 (no distance). */
  function kmText(code) {
    if (!code) { return ""; }
    if (code < 1002) { return fixedEven((code - 1) / 100, 2) + " km"; }
    if (code < 2003) { return fixedEven((code - 1002) / 10, 1) + " km"; }
    return String(code - 2003).replace(/\B(?=(\d{3})+(?!\d))/g, ",") + " km";
  }
  fm.kmText = kmText;

  /* The coordinates text of geo.maps._coordinates (without an uncertainty). */
  function coordinatesText(lat, lon) {
    return fixedEven(Math.abs(lat), 4) + "° " + (lat >= 0 ? "N" : "S") + ", " +
      fixedEven(Math.abs(lon), 4) + "° " + (lon >= 0 ? "E" : "W");
  }

  /* Decode a big user layer's binary points (geo.maps.BulkPoints): a promise of the layer
     with lat, lon, look, group, km, the names, ids and columns filled in. */
  function decodePoints(layer) {
    var pts = layer.pts, raw = global.atob(pts.data), bytes = new Uint8Array(raw.length);
    for (var b = 0; b < raw.length; b++) { bytes[b] = raw.charCodeAt(b); }
    var stream = new global.Blob([bytes]).stream().pipeThrough(new global.DecompressionStream("gzip"));
    return new global.Response(stream).arrayBuffer().then(function (buffer) {
      var n = pts.n, offset = 0, bytes = new Uint8Array(buffer);
      var lat = new Float64Array(n), lon = new Float64Array(n);
      var group = new Uint32Array(n), km = new Uint16Array(n), look = new Uint16Array(n);
      var i, g = pts.group, at = 8 * n;
      /* point i's value of the array of byte planes at a: size bytes, little end first */
      function word(a, size) {
        var v = 0;
        for (var k = size - 1; k >= 0; k--) { v = (v << 8) | bytes[a + k * n + i]; }
        return v;  /* a signed int32 for size 4 */
      }
      for (i = 0; i < n; i++) {
        lon[i] = word(0, 4) / pts.scale;
        lat[i] = word(4 * n, 4) / pts.scale;
        group[i] = word(at, g) >>> 0;
        look[i] = pts.looks[group[i]];
        km[i] = word(at + g * n, 2);
      }
      offset = at + (g + 2) * n;
      var decoder = new global.TextDecoder("utf-8"), cols = {};
      pts.texts.forEach(function (part) {
        var text = decoder.decode(new Uint8Array(buffer, offset, part[1]));
        offset += part[1];
        var list = text.split("\n");
        if (part[0] === "names") { layer.p.names = list; }
        else if (part[0] === "ids") { layer.p.ids = list; }
        else { cols[part[0]] = list; }
      });
      layer.lat = lat;
      layer.lon = lon;
      layer.look = look;
      layer.group = group;
      layer.km = km;
      layer.cols = cols;
      return layer;
    });
  }

  /* ---------- popups and tooltips, built from text nodes ---------- */

  function sourceList(box, sources) {
    if (!sources || !sources.length) { return; }
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
      if (s[3]) { el("span", "fm-popup-accessed", " (accessed " + s[3] + ")", li); }
    });
  }

  /* The popup of site i of a layer: title, kind, the fields, notes, timeline, sources. */
  function popupContent(layer, i) {
    var p = layer.p, box = el("div", "fm-popup"), state = layer.fmState;
    var day = state && state.timeline ? state.day : null;
    el("div", "fm-popup-title", p.names[i], box);
    var sub = p.subs ? p.subs[i] : p.sub;
    if (sub) { el("div", "fm-popup-sub", sub, box); }
    if (p.aka && p.aka[i]) { el("div", "fm-popup-aka", "Also: " + p.aka[i], box); }
    if (p.fields.length) {
      var pts = layer.pts, row = p.rows[pts ? layer.group[i] : i], next = 0;
      var table = el("table", "fm-popup-table", null, box);
      var fixed = p.fixed || {};
      for (var k = 0; k < p.fields.length; k++) {
        var value;
        if (pts && k === pts.xy) {
          value = coordinatesText(layer.lat[i], layer.lon[i]) + pts.unc;
        } else if (pts && own.call(layer.cols, String(k))) {
          value = layer.cols[String(k)][i];
        } else {
          value = own.call(fixed, String(k)) ? fixed[String(k)] : row[next++];
          if (pts && k === pts.km) { value = kmText(layer.km[i]) ? kmText(layer.km[i]) + value : ""; }
        }
        if (day && p.fields[k] === "Status" && value) {
          var step = stepOn(layer, i, day);
          value = (step ? step[1] : String(value).replace(/ on \d{4}-\d{2}-\d{2}$/, "")) + " on " + day;
          if (!activeOn(layer, i, day)) { value += " (not in service on that day)"; }
        }
        if (day && p.fields[k] === "To the frontier") {
          var d = distanceOn(state, layer, i);
          if (d !== undefined) { value = d ? d[3] + (d[4] ? " to the " + d[4] + " border" : "") : ""; }
        }
        if (value === "" || value === null || value === undefined) { continue; }
        var tr = el("tr", null, null, table);
        el("th", null, p.fields[k], tr);
        el("td", null, value, tr);
      }
    }
    if (p.notes && p.notes[i]) {
      el("div", "fm-popup-head", "Notes", box);
      el("p", "fm-popup-notes", p.notes[i], box);
    }
    var steps = p.timeline ? p.timeline[i] : null;
    if (steps && steps.length) {
      el("div", "fm-popup-head", "Timeline", box);
      var list = el("ol", "fm-popup-timeline", null, box);
      steps.forEach(function (step) {
        var li = el("li", null, null, list);
        el("span", "fm-popup-date", step[0], li);
        if (step[1]) { el("span", "fm-popup-status", " " + step[1], li); }
        if (step[2]) { el("span", null, " — " + step[2], li); }
      });
    }
    sourceList(box, p.sources ? p.sources[i] : null);
    return box;
  }

  function areaContent(area) {
    var box = el("div", "fm-popup");
    el("div", "fm-popup-title", area.name, box);
    el("div", "fm-popup-sub", "Named area", box);
    el("p", "fm-popup-notes", area.text, box);
    sourceList(box, area.sources);
    return box;
  }

  /* Popup options that fit the map: narrower than the map, clear of the title. */
  function popupOptions(state) {
    var size = state.map.getSize();
    var top = titleBottom(state) + 8;
    var left = Math.min(fitPadding(state).paddingTopLeft[0] + 2, size.x / 3);  // the buttons
    var width = Math.max(170, Math.min(340, size.x - left - 60));
    return {
      maxWidth: width, minWidth: Math.min(230, width),
      maxHeight: Math.max(150, Math.min(400, size.y - top - 70)),
      autoPanPaddingTopLeft: [left, top], autoPanPaddingBottomRight: [10, 28]
    };
  }

  function titleBottom(state) {
    var box = state.title;
    if (!box || !box.offsetHeight) { return 10; }
    return box.offsetTop + box.offsetHeight;
  }

  function tooltipContent(text) {
    return el("span", "fm-tip", text);
  }

  /* ---------- the basemap: countries, their names, regions, towns ---------- */

  /* A label: a marker with no box whose text (from data) is put in with textContent. */
  function labelMarker(latlng, cls, text, pane) {
    var span = el("span", "fm-label-text", text);
    var marker = L.marker(latlng, {
      pane: pane, interactive: false, keyboard: false,
      icon: L.divIcon({ className: "fm-label " + cls, html: span, iconSize: [0, 0] })
    });
    marker.fmText = span;
    return marker;
  }

  function polygonsOf(polys, scale) {
    return polys.map(function (rings) { return decodeRings(rings, scale); });
  }

  function boundsOf(polys) {
    var b = L.latLngBounds([]);
    polys.forEach(function (rings) { rings[0].forEach(function (p) { b.extend(p); }); });
    return b;
  }

  function inRing(lat, lon, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var yi = ring[i][0], xi = ring[i][1], yj = ring[j][0], xj = ring[j][1];
      if ((yi > lat) !== (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) {
        inside = !inside;
      }
    }
    return inside;
  }

  function inPolygons(lat, lon, polys) {
    return polys.some(function (rings) {
      var count = 0;
      rings.forEach(function (r) { if (inRing(lat, lon, r)) { count++; } });
      return count % 2 === 1;
    });
  }

  function addBasemap(state, data) {
    var map = state.map;
    var pane = map.createPane("fm-basemap");
    pane.style.zIndex = 250;
    /* names above the lines (whose white casing would hide letters), below the sites */
    ["fm-labels", "fm-places"].forEach(function (name, k) {
      var p = map.createPane(name);
      p.style.zIndex = 450 + k;
      p.style.pointerEvents = "none";
    });
    var renderer = L.canvas({ pane: "fm-basemap", padding: 0.5 });
    var group = L.layerGroup();
    var styles = data.styles;
    state.areaLabels = [];
    state.countries = [];
    data.countries.forEach(function (c, k) {
      var style = styles[c[1]] || styles.other;
      var polys = polygonsOf(c[2], data.scale);
      var polygon = L.polygon(polys, {
        pane: "fm-basemap", renderer: renderer, interactive: false,
        color: style.stroke, weight: style.weight, fillColor: style.fill,
        fillOpacity: data.tiles ? style.fillOpacityTiles : 1, opacity: 1
      }).addTo(group);
      state.countries.push({ code: c[0], group: c[1], shown: c[1], polygon: polygon });
      var lab = data.labels[k];
      if (!lab) { return; }
      var marker = labelMarker([lab[1], lab[2]], "fm-country-label fm-rank-" + lab[3], lab[0],
        "fm-labels").addTo(group);
      state.areaLabels.push({
        marker: marker, home: L.latLng(lab[1], lab[2]), rank: lab[3], polys: polys,
        bounds: boundsOf(polys), kind: "country"
      });
    });
    data.regions.forEach(function (r) {
      var polys = polygonsOf(r[3], 100);
      var marker = labelMarker([r[1], r[2]], "fm-region-label", r[0], "fm-labels").addTo(group);
      state.areaLabels.push({
        marker: marker, home: L.latLng(r[1], r[2]), rank: 1, polys: polys,
        bounds: boundsOf(polys), kind: "region"
      });
    });
    state.places = { zooms: data.places.zooms, towns: data.places.towns, markers: {} };
    group.addTo(map);
    return group;
  }

  /* The towns of the tiers shown at this zoom that lie in view, as markers (made once). */
  function updateTowns(state) {
    var map = state.map, zoom = map.getZoom(), places = state.places;
    var view = map.getBounds().pad(0.15), shown = [];
    places.towns.forEach(function (t, k) {
      var marker = places.markers[k];
      var want = zoom >= places.zooms[t[3]] && view.contains([t[1], t[2]]);
      if (want) {
        if (!marker) {
          marker = labelMarker([t[1], t[2]], "fm-town fm-tier-" + t[3], t[0], "fm-places");
          marker.fmTier = t[3];
          places.markers[k] = marker;
        }
        if (!map.hasLayer(marker)) { marker.addTo(map); }
        shown.push(marker);
      } else if (marker && map.hasLayer(marker)) {
        map.removeLayer(marker);
      }
    });
    return shown;
  }

  /* ---------- overlays ---------- */

  function addLines(data) {
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
      if (this._map && this._canvas) { this._redraw(); }
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
      var px = this._px || [], py = this._py || [], n = px.length;
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
    frontier: addLines,
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
  fm.parseHash = parseHash;

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

  /* The frontier of a state: its parts' lines, drawn as addLines draws them. */
  function drawFrontier(group, ov, lines) {
    group.clearLayers();
    lines.forEach(function (line) {
      var parts = line.coords.map(function (r) { return decode(r, ov.scale); });
      if (ov.casing) { L.polyline(parts, L.extend({ interactive: false }, ov.casing)).addTo(group); }
      var pl = L.polyline(parts, L.extend({}, ov.style)).addTo(group);
      if (line.tooltip) { pl.bindTooltip(tooltipContent(line.tooltip), { sticky: true }); }
    });
  }

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
    var counts = {}, sites = 0, layersShown = 0;
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
        parts.forEach(function (part) {
          if (on && !group.hasLayer(part)) { group.addLayer(part); }
          if (!on && group.hasLayer(part)) { group.removeLayer(part); }
        });
        if (!on) { return; }
        n++;
        var step = stepOn(ov, i, day), html = step ? ov.fmSvgs[step[2]] || site.html : site.html;
        var count = state.stackCounts[site.key] || 1;
        if (html !== site.html || count !== site.count) {
          site.html = html;
          site.count = count;
          marker.setIcon(siteIcon(html, null, count));
          nameMarker({ target: marker });
        }
        var row = distanceOn(state, ov, i);
        if (row !== undefined && ov.p.tips) {
          var name = ov.p.names[i];
          marker.setTooltipContent(tooltipContent(row ? name + " · " + row[3] + " to the frontier" : name));
        }
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
      drawFrontier(front, frontOv, lines);
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
      var keep = ov.lines.filter(function (d) { return !state.timedSites[stackKey(d[0], d[1])]; });
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
      countText(sites) + " sites in " + layersShown + " layers");
    if (state.subtitle) { state.subtitle.textContent = sub; }
    if (state.legend && state.legend.fmAbout) { state.legend.fmAbout.textContent = sub; }
    Object.keys(state.legendWords || {}).forEach(function (key) {
      var node = state.legendWords[key];
      if (key === "countries") { node.textContent = "Countries on " + day; }
      if (key === "west") { node.textContent = "NATO member on " + day; }
      if (key === "frontier") { node.textContent = fs.legend; }
    });
    if (state.layerControl) { state.layerControl._update(); }
    if (state.slider) { state.slider.show(day); }
    orderMarkers(state);
    updateCircles(state);
    relabel(state);
    if (state.writeHash) { state.writeHash(); }
    map.fire("fmday", { day: day });
  }
  fm.setDay = setDay;

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
      timeline: data.timeline || null, overlayData: {}, timedSites: {}
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
      if (ov.type === "sites") { state.counts[ov.slug] = layer.count; }
    });
    /* legend: basemap shading, then the analysis, then the site layers and their certainty */
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
