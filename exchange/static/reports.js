// The reports page's chart: clicks, leads and approved leads per day or hour, drawn with
// Chart.js from the JSON the page embeds. Progressive: without Chart.js (or JavaScript)
// the table with the figures stays the page's content.
(function () {
  "use strict";
  const canvas = document.getElementById("report-chart");
  const data = document.getElementById("report-chart-data");
  if (!canvas || !data || typeof window.Chart !== "function") {
    return;
  }
  const points = JSON.parse(data.textContent);
  canvas.hidden = false;
  new window.Chart(canvas, {
    type: "line",
    data: {
      labels: points.map(function (p) { return p.at; }),
      datasets: [
        { label: "Clicks", data: points.map(function (p) { return p.clicks; }) },
        { label: "Leads", data: points.map(function (p) { return p.leads; }) },
        { label: "Approved", data: points.map(function (p) { return p.approved; }) },
      ],
    },
    options: {
      responsive: true,
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
})();
