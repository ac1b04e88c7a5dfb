// The agent's live connection (/ws/agent/), shared by every page: it drives the connection
// indicator, reconnects by itself with backoff, and re-dispatches each server message as a
// "crm:message" DOM event for the page scripts (dashboard pop cards, RingOut status).
(function () {
  "use strict";
  if (!document.body.dataset.live) return;

  const indicator = document.getElementById("conn");
  const text = indicator ? indicator.querySelector(".conn-text") : null;
  const MAX_DELAY_MS = 30000;
  let socket = null;
  let attempt = 0;
  let retryTimer = null;
  let countdownTimer = null;
  let stopped = false;

  function show(state, label) {
    if (!indicator) return;
    indicator.hidden = false;
    indicator.dataset.state = state;
    text.textContent = label;
    indicator.title = label;
  }

  function url() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const params = new URLSearchParams(window.location.search);
    const agent = document.body.dataset.watchAgent || params.get("agent");
    return `${scheme}://${window.location.host}/ws/agent/${agent ? `?agent=${encodeURIComponent(agent)}` : ""}`;
  }

  function scheduleReconnect() {
    if (stopped) return;
    // Exponential backoff with jitter, so a restarted server is not hit by every tab at once.
    const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
    attempt += 1;
    let remaining = Math.ceil(delay / 1000);
    show("connecting", `Reconnecting in ${remaining}s`);
    clearInterval(countdownTimer);
    countdownTimer = setInterval(() => {
      remaining -= 1;
      if (remaining > 0) show("connecting", `Reconnecting in ${remaining}s`);
    }, 1000);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delay);
  }

  function connect() {
    clearTimeout(retryTimer);
    clearInterval(countdownTimer);
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) return;
    show("connecting", "Connecting…");
    try {
      socket = new WebSocket(url());
    } catch (err) {
      scheduleReconnect();
      return;
    }
    socket.addEventListener("open", () => {
      attempt = 0;
      show("open", "Live");
      document.dispatchEvent(new CustomEvent("crm:connection", { detail: { state: "open" } }));
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      document.dispatchEvent(new CustomEvent("crm:message", { detail: message }));
    });
    socket.addEventListener("close", (event) => {
      socket = null;
      document.dispatchEvent(new CustomEvent("crm:connection", { detail: { state: "closed" } }));
      if (event.code === 4401 || event.code === 4403) {
        // Not signed in (any more) or not an agent: retrying cannot help.
        stopped = true;
        show("closed", event.code === 4401 ? "Signed out" : "Not allowed");
        return;
      }
      scheduleReconnect();
    });
    socket.addEventListener("error", () => {
      // "close" follows and schedules the retry.
    });
  }

  function reconnectNow() {
    if (stopped) return;
    attempt = 0;
    connect();
  }

  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && !socket) reconnectNow();
  });
  window.addEventListener("pagehide", () => {
    stopped = true;
    if (socket) socket.close(1000);
  });

  window.addEventListener("pageshow", (event) => {
    if (event.persisted) {
      stopped = false;
      reconnectNow();
    }
  });

  // A page that rendered a pushed call frame acknowledges it: the operations page's
  // event → render figures (crm_cti/telephony/receipts.py). Frames without event_at (a
  // snapshot, a re-push) ask for none.
  function receipt(message) {
    if (!message || !message.call || typeof message.event_at !== "number") return;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({
      type: "receipt", call: message.call.id, state: message.call.state,
      event_at: message.event_at, rendered_at: Date.now(),
    }));
  }

  window.crmLive = {
    isOpen: () => Boolean(socket && socket.readyState === WebSocket.OPEN),
    reconnect: reconnectNow,
    receipt,
  };
  connect();
})();
