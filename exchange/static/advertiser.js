// The advertiser's dashboard chart: approved and rejected leads per day, drawn with Chart.js
// from the JSON the page embeds. Progressive: without Chart.js (or JavaScript) the table
// with the same figures stays the page's content.
(function () {
  "use strict";
  var canvas = document.getElementById("decisions-chart");
  var data = document.getElementById("decisions-data");
  if (!canvas || !data || typeof window.Chart !== "function") {
    return;
  }
  var rows = JSON.parse(data.textContent);
  canvas.hidden = false;
  var table = document.getElementById("decisions-table");
  if (table) {
    table.open = false; // the chart says it; the table stays one click away
  }
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: rows.map(function (row) { return row.day.slice(5); }),
      datasets: [
        { label: "Approved", data: rows.map(function (row) { return row.approved; }), backgroundColor: "#2e7d32" },
        { label: "Rejected", data: rows.map(function (row) { return row.rejected; }), backgroundColor: "#c62828" }
      ]
    },
    options: {
      responsive: true,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }
    }
  });
})();
