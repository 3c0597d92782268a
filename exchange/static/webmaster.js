// The webmaster's pages: the dashboard's chart (clicks and leads per day, from the JSON
// in the page; the table beside it has the same figures and stays the fallback) and the
// offer page's link builder (the tracking link with sub1..sub5, built as you type; the
// form's button builds it on the server when scripts do not run).
(function () {
  "use strict";

  function drawDailyChart() {
    const data = document.getElementById("daily-data");
    const canvas = document.getElementById("daily-chart");
    if (!data || !canvas || typeof window.Chart !== "function") {
      return;
    }
    const days = JSON.parse(data.textContent);
    canvas.hidden = false;
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: days.map(function (d) { return d.day; }),
        datasets: [
          { label: "Clicks", data: days.map(function (d) { return d.clicks; }), tension: 0.2 },
          { label: "Leads", data: days.map(function (d) { return d.leads; }), tension: 0.2 },
        ],
      },
      options: {
        responsive: true,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  function wireLinkBuilder() {
    const form = document.getElementById("link-builder");
    const output = document.getElementById("built-link");
    if (!form || !output) {
      return;
    }
    function build() {
      const query = new URLSearchParams();
      form.querySelectorAll("input[name^='sub']").forEach(function (input) {
        if (input.value) {
          query.append(input.name, input.value);
        }
      });
      const text = query.toString();
      const code = document.createElement("code");
      code.textContent = form.dataset.base + (text ? "?" + text : "");
      output.replaceChildren(code);
    }
    form.addEventListener("input", build);
    build();
  }

  drawDailyChart();
  wireLinkBuilder();
})();
