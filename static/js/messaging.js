// Forms marked data-async-form post with fetch and show errors next to their fields.
// The JSON answer is {"ok": true, "message": "..."} or {"ok": false, "errors": {field: [{"message"}]}}.
(function () {
  "use strict";

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach((el) => { el.textContent = ""; });
    form.querySelectorAll(".field-error").forEach((el) => el.classList.remove("field-error"));
    const ok = form.querySelector("[data-ok]");
    if (ok) ok.textContent = "";
  }

  function showErrors(form, errors) {
    for (const [field, list] of Object.entries(errors || {})) {
      const slot = form.querySelector(`[data-error-for="${field}"]`) || form.querySelector('[data-error-for="__all__"]');
      if (!slot) continue;
      const text = list.map((e) => (typeof e === "string" ? e : e.message));
      if (slot.tagName === "UL") {
        for (const t of text) { const li = document.createElement("li"); li.textContent = t; slot.appendChild(li); }
        const fieldEl = slot.closest(".field");
        if (fieldEl) fieldEl.classList.add("field-error");
      } else {
        slot.textContent = text.join(" ");
      }
    }
  }

  async function submit(event) {
    const form = event.target.closest("form[data-async-form]");
    if (!form) return;
    event.preventDefault();
    clearErrors(form);
    const button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    let data = null;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json", "X-Requested-With": "fetch" },
        credentials: "same-origin",
      });
      data = await response.json().catch(() => ({ ok: false, errors: { __all__: [`Error ${response.status}`] } }));
    } catch (err) {
      data = { ok: false, errors: { __all__: ["Network error: the message was not sent."] } };
    } finally {
      if (button) button.disabled = false;
    }
    if (data.ok) {
      const ok = form.querySelector("[data-ok]");
      if (ok) ok.textContent = data.message || "Sent.";
      const text = form.querySelector('textarea[name="text"]');
      if (text) text.value = "";
      form.dispatchEvent(new CustomEvent("async-form:ok", { bubbles: true, detail: data }));
    } else {
      showErrors(form, data.errors);
    }
  }

  document.addEventListener("submit", submit);
  window.crmAsyncForms = { clearErrors, showErrors };
})();
