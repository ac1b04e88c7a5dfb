// Contact import progress: poll the status JSON until the import is finished.
(function () {
  "use strict";
  const root = document.querySelector("[data-import-status]");
  if (!root || root.dataset.finished === "true") return;
  const $ = (id) => document.getElementById(id);

  function renderErrors(errors) {
    const body = $("imp-errors").querySelector("tbody");
    body.textContent = "";
    if (!errors.length) {
      const tr = body.insertRow();
      const td = tr.insertCell();
      td.colSpan = 3;
      td.textContent = "None so far.";
      return;
    }
    for (const item of errors) {
      for (const [field, messages] of Object.entries(item.errors)) {
        const tr = body.insertRow();
        tr.insertCell().textContent = item.row;
        tr.insertCell().textContent = field;
        tr.insertCell().textContent = messages.join(" ");
      }
    }
  }

  async function poll() {
    let data;
    try {
      const response = await fetch(window.location.href, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(response.status);
      data = await response.json();
    } catch (err) {
      setTimeout(poll, 3000);
      return;
    }
    $("imp-status").textContent = data.status;
    $("imp-progress").value = data.percent;
    $("imp-count").textContent = `${data.processed_rows}/${data.total_rows}`;
    $("imp-created").textContent = data.created;
    $("imp-updated").textContent = data.updated;
    $("imp-error-count").textContent = data.errors.length;
    renderErrors(data.errors);
    if (data.failure) {
      $("imp-failure").textContent = data.failure;
      $("imp-failure").hidden = false;
    }
    if (!data.finished) setTimeout(poll, 1000);
  }
  setTimeout(poll, 500);
})();
