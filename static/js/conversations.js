// A thread reads and replies in place: an inbound SMS from this number and a reply sent from
// here (or from a toast) join the list; a template fills the reply box.
(function () {
  "use strict";
  const thread = document.getElementById("thread");
  if (!thread) return;

  function append(message) {
    if (!message || message.counterpart !== thread.dataset.counterpart) return;
    if (thread.querySelector(`[data-message-id="${message.id}"]`)) return;
    const empty = thread.querySelector("[data-empty]");
    if (empty) empty.remove();
    const li = document.createElement("li");
    li.className = `bubble bubble-${message.direction}`;
    li.dataset.messageId = String(message.id);
    const text = document.createElement("div");
    text.className = "bubble-text";
    text.textContent = message.text;
    const time = document.createElement("time");
    time.className = "muted small";
    time.dateTime = message.created_at;
    time.textContent = new Date(message.created_at).toLocaleString();
    li.append(text, time);
    thread.appendChild(li);
    li.scrollIntoView({ block: "nearest" });
  }

  // What the owner sees is read: here and on RingCentral (a POST; the server tells it).
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  async function markRead() {
    if (!thread.dataset.readUrl || document.visibilityState !== "visible") return;
    try {
      const response = await fetch(thread.dataset.readUrl, {
        method: "POST", credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrf },
      });
      if (response.ok) {
        thread.dataset.unread = "0";
        thread.querySelectorAll(".bubble.unread").forEach((b) => b.classList.remove("unread"));
      }
    } catch (err) { /* read on the next visit */ }
  }
  if (Number(thread.dataset.unread || 0) > 0) markRead();
  document.addEventListener("visibilitychange", () => {
    if (Number(thread.dataset.unread || 0) > 0) markRead();
  });

  document.addEventListener("crm:message", (event) => {
    const message = event.detail || {};
    if (message.type !== "sms") return;
    append(message.message);
    if (message.message && message.message.counterpart === thread.dataset.counterpart) {
      thread.dataset.unread = String(Number(thread.dataset.unread || 0) + 1);
      markRead();
    }
  });
  document.addEventListener("crm:sent", (event) => append(event.detail));
  document.addEventListener("async-form:ok", (event) => append((event.detail || {}).sent));
})();
