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
 * geo/_payload.py (MapData and what it holds):
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
 *                                               detail: [part of frontier.detail.pairs], to: {slug: [[metres, lat, lon, label, border]
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
 *   frontier:  scale, style, casing, lines [{coords:[codes], tooltip}]; detail (when the
 *              borders measured to are not the display's): {zoom, scale, source, shown:
 *              [part], pairs: {part: lines}}, drawn instead of lines from that zoom on
 *   distances: style, lines [[lat, lon, to_lat, to_lon, label, tooltip]]
 *   rings:     scale, style, rings [[codes, colour, tooltip, label, label_lat, label_lon]]
 *   areas:     scale, style, areas [{name, text, lines:[codes], sources}]
 *   sites:     user, colour, symbol (SVG path on 20 x 20), bulk, lat[], lon[], scale,
 *              areas (per site polygons or null), lines (per site [codes] or null), looks [[colour, hollow, fill_opacity, dash,
 *              outline_width, badge]], look[] (index per site; absent: all 0), unc[] (metres),
 *              to[] ([lat, lon] of the nearest opposing point, or null), since[], until[]
 *              (first and last day, "" when open), st[] ([[first_day, status, look]] or []),
 *              p (Popup), pts (a big user layer in binary: geo._payload.BulkPoints; lat, lon,
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

  /* The text of a distance code of geo._bulk.km_codes: the digits of km_label, already
     rounded in Python; "" for 0 (no distance). */
  function kmText(code) {
    if (!code) { return ""; }
    if (code < 1002) { return fixedEven((code - 1) / 100, 2) + " km"; }
    if (code < 2003) { return fixedEven((code - 1002) / 10, 1) + " km"; }
    return String(code - 2003).replace(/\B(?=(\d{3})+(?!\d))/g, ",") + " km";
  }
  fm.kmText = kmText;

  /* The coordinates text of geo._popups.coordinates_text (without an uncertainty). */
  function coordinatesText(lat, lon) {
    return fixedEven(Math.abs(lat), 4) + "° " + (lat >= 0 ? "N" : "S") + ", " +
      fixedEven(Math.abs(lon), 4) + "° " + (lon >= 0 ? "E" : "W");
  }

  /* Decode a big user layer's binary points (geo._payload.BulkPoints): a promise of the layer
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
      if (pts.epoch) {  /* each point's first and last day after the epoch (0: open) */
        var first = layer.first = new Uint16Array(n), last = layer.last = new Uint16Array(n);
        for (i = 0; i < n; i++) {
          first[i] = word(at + (g + 2) * n, 2);
          last[i] = word(at + (g + 4) * n, 2);
        }
      }
      offset = at + (g + (pts.epoch ? 6 : 2)) * n;
      var decoder = new global.TextDecoder("utf-8"), cols = {};
      pts.texts.forEach(function (part) {
        var list;
        if (part.length > 2) {  /* a prefix and numbers: int32 steps, each from the one before */
          var v = 0;  /* word() reads point i of decodePoints */
          list = new Array(n);
          for (i = 0; i < n; i++) { v += word(offset, 4); list[i] = part[2] + v; }
        } else {
          list = decoder.decode(new Uint8Array(buffer, offset, part[1])).split("\n");
        }
        offset += part[1];
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

