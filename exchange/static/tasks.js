// A task's page: moves its progress bar by polling /tasks/<id>.json about once a second,
// and reloads the page when the task ends (to show its download link or its errors).
// Without JavaScript the page refreshes itself instead (a <noscript> meta refresh).
(function () {
  "use strict";
  var box = document.querySelector("[data-poll]");
  if (!box || box.dataset.state === "done" || box.dataset.state === "failed" || !window.fetch) {
    return;
  }
  var bar = box.querySelector("[data-task=bar]");
  var count = box.querySelector("[data-task=count]");
  var state = box.querySelector("[data-task=state]");

  function show(task) {
    state.textContent = task.state;
    if (task.total > 0) {
      bar.max = task.total;
      bar.value = task.done;
    }
    count.textContent = task.done + " of " + task.total + " rows · " + task.percent + " %";
  }

  function poll() {
    fetch(box.dataset.poll, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (task) {
        show(task);
        if (task.state === "done" || task.state === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 3000); // a network hiccup: try again, a little later
      });
  }

  window.setTimeout(poll, 1000);
})();
