// What comes back from a customer, on every page: an inbound SMS pops a toast with its text
// and a reply box, the title flashes while the tab is in the background, a desktop
// notification shows when the browser allows it; a voicemail pops a toast too, and the
// nav's follow-up count follows the server's. Messages arrive as "crm:message" (live.js).
(function () {
  "use strict";
  if (!document.body.dataset.live) return;

  const baseTitle = document.title;
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  let flashTimer = null;
  let stack = null;

  function inFront() {
    return document.visibilityState === "visible" && document.hasFocus();
  }

  function stopFlash() {
    if (flashTimer) clearInterval(flashTimer);
    flashTimer = null;
    document.title = baseTitle;
  }

  function startFlash(text) {
    stopFlash();
    let on = false;
    flashTimer = setInterval(() => { on = !on; document.title = on ? text : baseTitle; }, 1000);
    document.title = text;
  }

  window.addEventListener("focus", stopFlash);
  document.addEventListener("visibilitychange", () => { if (inFront()) stopFlash(); });

  function notify(heading, body, tag) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      const n = new Notification(heading, { body, tag });
      n.onclick = () => { window.focus(); n.close(); };
    } catch (err) { /* some browsers only allow notifications from a service worker */ }
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function toastStack() {
    if (!stack) {
      stack = el("div", { class: "toasts", id: "toasts", "aria-live": "polite" });
      document.body.appendChild(stack);
    }
    return stack;
  }

  function toast(message, kind) {
    const who = message.name || message.counterpart || "Unknown";
    const box = el("section", { class: `toast toast-${kind}`, "data-message-id": String(message.id), role: "status" });
    const head = el("div", { class: "toast-head" });
    const heading = kind === "voicemail" ? `Voicemail from ${who}`
      : (message.type === "Pager" ? `Pager message from ${who}` : `SMS from ${who}`);
    const title = el("a", { href: message.thread_url, class: "toast-who" }, heading);
    const close = el("button", { type: "button", class: "btn btn-link toast-close", "aria-label": "Dismiss" }, "×");
    close.addEventListener("click", () => box.remove());
    head.append(title, close);
    box.append(head, el("p", { class: "toast-text" }, message.text || ""));
    if (kind === "sms" && message.reply_url) {
      const form = el("form", { method: "post", action: message.reply_url, class: "toast-reply" });
      const label = el("label", { class: "visually-hidden", for: `toast-reply-${message.id}` }, "Reply");
      const text = el("textarea", { name: "text", rows: "2", maxlength: "1000", id: `toast-reply-${message.id}`, placeholder: "Reply…" });
      const status = el("div", { class: "form-error", role: "alert" });
      const send = el("button", { type: "submit", class: "btn btn-primary btn-small" }, "Send");
      const source = document.getElementById("reply-template-source");
      if (source && source.content.firstElementChild) form.append(source.content.firstElementChild.cloneNode(true));
      form.append(label, text, status, send);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        status.textContent = "";
        send.disabled = true;
        const body = new FormData();
        body.append("text", text.value);
        try {
          const response = await fetch(form.action, {
            method: "POST", body, credentials: "same-origin",
            headers: { Accept: "application/json", "X-CSRFToken": csrf },
          });
          const data = await response.json().catch(() => ({ ok: false, errors: { __all__: [{ message: `Error ${response.status}` }] } }));
          if (data.ok) {
            box.classList.add("toast-sent");
            form.replaceWith(el("p", { class: "form-ok" }, "Reply sent."));
            document.dispatchEvent(new CustomEvent("crm:sent", { detail: data.sent }));
            setTimeout(() => box.remove(), 4000);
          } else {
            status.textContent = Object.values(data.errors || {}).flat().map((e) => e.message || e).join(" ");
          }
        } catch (err) {
          status.textContent = "Network error: the reply was not sent.";
        } finally {
          send.disabled = false;
        }
      });
      box.append(form);
    }
    toastStack().prepend(box);
    if (!inFront()) {
      startFlash(kind === "voicemail" ? `✉ ${heading}` : `✉ ${who}: ${message.text || ""}`.slice(0, 60));
      notify(heading, message.text || "", `message-${message.id}`);
    }
  }

  function followupCount(count) {
    const badge = document.getElementById("followups-open");
    if (!badge) return;
    badge.dataset.count = String(count);
    badge.textContent = String(count);
  }

  // The Conversations page re-reads its list: the thread moves up with its unread count.
  async function refreshThreads() {
    const panel = document.querySelector("#threads, #no-threads");
    if (!panel) return;
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      if (!response.ok) return;
      const html = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = html.querySelector("#threads, #no-threads");
      const current = document.querySelector("#threads, #no-threads");
      if (fresh && current) current.replaceWith(fresh);
    } catch (err) { /* the next message or a reload shows it */ }
  }

  // A reply template fills the SMS box of its form (thread, toast, card, contact page).
  document.addEventListener("change", (event) => {
    const select = event.target.closest("[data-reply-template]");
    if (!select || !select.value || !select.form) return;
    const box = select.form.querySelector('textarea[name="text"]');
    if (box) box.value = select.value;
    select.value = "";
  });

  document.addEventListener("crm:message", (event) => {
    const message = event.detail || {};
    if (message.type === "sms" || message.type === "voicemail") {
      // The thread page shows it in place and needs no toast.
      const thread = document.getElementById("thread");
      const here = thread && thread.dataset.counterpart === message.message.counterpart;
      if (!here || message.type === "voicemail") toast(message.message, message.type);
      if (message.type === "sms") refreshThreads();
    } else if (message.type === "followups") {
      followupCount(message.open);
    }
  });
})();

// The agent and call-queue pickers show what is picked at once. (A handler here, not an
// inline onchange: the Content-Security-Policy allows no inline script.)
document.addEventListener("change", (event) => {
  const select = event.target;
  if (select instanceof HTMLSelectElement && select.hasAttribute("data-autosubmit") && select.form) {
    select.form.submit();
  }
});
