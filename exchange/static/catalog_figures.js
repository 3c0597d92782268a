// Staff's catalog page: the margin by age step at sale, a bar per vertical at each step
// (side by side, not stacked: verticals may sell in different currencies), drawn with
// Chart.js from the JSON the page embeds. Progressive: without Chart.js (or JavaScript)
// the tables with the figures stay the page's content.
(function () {
  "use strict";
  const canvas = document.getElementById("catalog-chart");
  const data = document.getElementById("catalog-chart-data");
  if (!canvas || !data || typeof window.Chart !== "function") {
    return;
  }
  const chart = JSON.parse(data.textContent);
  if (chart.series.length === 0) {
    return;
  }
  canvas.hidden = false;
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: chart.labels,
      datasets: chart.series.map(function (s) { return { label: s.label, data: s.data }; }),
    },
    options: {
      responsive: true,
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true } },
    },
  });
})();
