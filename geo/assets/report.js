(function () {
  "use strict";
  var table = document.getElementById("sites-table");
  if (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, index) {
      th.querySelector("button").addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var numeric = th.getAttribute("data-type") === "num";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        function key(row) {
          var cell = row.cells[index];
          var value = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim().toLowerCase();
          if (numeric) { return value === "" ? Infinity : parseFloat(value); }
          return value;
        }
        rows.map(function (row, i) { return [key(row), i, row]; })
          .sort(function (a, b) {
            if (a[0] < b[0]) { return ascending ? -1 : 1; }
            if (a[0] > b[0]) { return ascending ? 1 : -1; }
            return a[1] - b[1];
          })
          .forEach(function (item) { body.appendChild(item[2]); });
      });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("input[name=map-state]"), function (input) {
    input.addEventListener("change", function () {
      /* the map of the date, and the header figures of that date */
      Array.prototype.forEach.call(document.querySelectorAll(".map-pane, .state-figures"), function (pane) {
        pane.classList.toggle("inactive", pane.getAttribute("data-state") !== input.value);
      });
    });
  });
})();
