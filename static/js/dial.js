// Click-to-dial: every [data-ringout] button on any page starts a RingOut through
// POST /api/ringout/ and shows both legs' live status (websocket "ringout" messages, with
// polling as a fallback while the connection is down), with cancel while the callee rings.
(function () {
  "use strict";
  const body = document.body;
  const panel = document.getElementById("ringout-panel");
  const dialog = document.getElementById("ringout-from-dialog");
  if (!panel || !dialog) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const FINAL = new Set(["Success", "Busy", "NoAnswer", "Rejected", "CannotReach", "Error",
    "NoSessionFound", "Finished", "Cancelled", "Canceled", "GenericError", "InternationalDisabled",
    "DestinationBlocked", "NotEnoughFunds", "NoSuchUser"]);
  const POLL_MS = 3000;
  const el = (name) => panel.querySelector(`[data-ro="${name}"]`);
  const cancelButton = panel.querySelector("[data-ro-cancel]");
  let current = null; // {id, to, display, final}
  let pendingDial = null;
  let pollTimer = null;

  function fmt(number) {
    const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(number || "");
    return m ? `(${m[1]}) ${m[2]}-${m[3]}` : (number || "");
  }

  // The RingOut as the API/websocket gives it, in camelCase or snake_case, flat or nested.
  function normalize(ro) {
    // /api/ringout/ gives "status" as the call status string; RingCentral nests an object.
    const status = ro.status && typeof ro.status === "object" ? ro.status : {};
    const flatStatus = typeof ro.status === "string" ? ro.status : "";
    const pick = (...keys) => {
      for (const k of keys) {
        if (ro[k] !== undefined && ro[k] !== null && ro[k] !== "") return ro[k];
        if (status[k] !== undefined && status[k] !== null && status[k] !== "") return status[k];
      }
      return "";
    };
    return {
      id: String(pick("id", "ringout_id", "rc_id")),
      call: pick("call_status", "callStatus") || flatStatus,
      caller: pick("caller_status", "callerStatus"),
      callee: pick("callee_status", "calleeStatus"),
      finished: Boolean(pick("final", "finished", "is_final")),
      error: pick("error", "message"),
    };
  }

  function badge(node, value) {
    node.textContent = value || "—";
    node.className = "badge";
    if (value === "Success") node.classList.add("badge-ok");
    else if (value === "InProgress") node.classList.add("badge-warn");
    else if (value) node.classList.add("badge-bad");
  }

  function render(state) {
    badge(el("caller"), state.caller);
    badge(el("callee"), state.callee);
    badge(el("call"), state.call);
    const final = state.finished || FINAL.has(state.call) && state.call !== "InProgress";
    if (current) current.final = final;
    // Cancelling only makes sense while the callee has not answered yet.
    cancelButton.disabled = final || state.callee === "Success";
    if (final) stopPolling();
    panel.dataset.final = final ? "true" : "false";
  }

  function onMessage(event) {
    const message = event.detail || {};
    if (message.type !== "ringout" || !current) return;
    const state = normalize(message.ringout || message);
    if (state.id && current.id && state.id !== current.id) return;
    render(state);
  }

  async function api(method, url, payload) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: payload ? JSON.stringify(payload) : undefined,
    });
    let data = {};
    try { data = await response.json(); } catch (err) { data = {}; }
    return { ok: response.ok, status: response.status, data };
  }

  function errorText(data, status) {
    if (data.error && typeof data.error === "string") return data.error;
    if (data.message) return data.message;
    if (data.detail) return data.detail;
    if (data.errors) {
      return Object.values(data.errors).flat().map((e) => (typeof e === "string" ? e : e.message)).join(" ");
    }
    return `RingOut failed (HTTP ${status}).`;
  }

  function stopPolling() {
    clearTimeout(pollTimer);
    pollTimer = null;
  }

  async function poll() {
    stopPolling();
    if (!current || current.final) return;
    if (!(window.crmLive && window.crmLive.isOpen())) {
      const result = await api("GET", `/api/ringout/${encodeURIComponent(current.id)}/`).catch(() => null);
      if (result && result.ok) render(normalize(result.data.ringout || result.data));
    }
    if (current && !current.final) pollTimer = setTimeout(poll, POLL_MS);
  }

  async function start(to, display) {
    const from = body.dataset.ringoutFrom;
    if (!from) {
      pendingDial = { to, display };
      openDialog();
      return;
    }
    stopPolling(); // a new call replaces the one the panel showed
    current = { id: "", to, display, final: false };
    panel.hidden = false;
    el("to").textContent = display || fmt(to);
    el("from").textContent = fmt(from);
    el("error").textContent = "";
    render({ caller: "", callee: "", call: "Starting…" });
    cancelButton.disabled = true;
    let result;
    try {
      result = await api("POST", "/api/ringout/", { to, from });
    } catch (err) {
      result = { ok: false, status: 0, data: { error: "Network error: the call was not placed." } };
    }
    if (!result.ok) {
      el("error").textContent = errorText(result.data, result.status);
      render({ call: "Error", finished: true });
      return;
    }
    const state = normalize(result.data.ringout || result.data);
    current.id = state.id;
    render(state.call ? state : { ...state, call: "InProgress", caller: "InProgress" });
    pollTimer = setTimeout(poll, POLL_MS);
  }

  async function cancel() {
    if (!current || !current.id) return;
    cancelButton.disabled = true;
    const result = await api("DELETE", `/api/ringout/${encodeURIComponent(current.id)}/`).catch(() => null);
    if (result && result.ok) {
      const state = normalize(result.data.ringout || result.data || {});
      render({ ...state, call: state.call && state.call !== "InProgress" ? state.call : "Cancelled", finished: true });
    } else {
      el("error").textContent = result ? errorText(result.data, result.status) : "Network error.";
      cancelButton.disabled = false;
    }
  }

  function close() {
    stopPolling();
    panel.hidden = true;
    current = null;
  }

  // ------------------------------------------------------------------ the "from" picker
  const fromForm = document.getElementById("ringout-from-form");

  function openDialog() {
    if (window.crmAsyncForms) window.crmAsyncForms.clearErrors(fromForm);
    fromForm.querySelectorAll("[data-error-for]").forEach((n) => { n.textContent = ""; });
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    const checked = fromForm.querySelector('input[name="choice"]:checked');
    if (checked) checked.focus();
  }

  function closeDialog() {
    if (typeof dialog.close === "function") dialog.close();
    else dialog.removeAttribute("open");
  }

  fromForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    fromForm.querySelectorAll("[data-error-for]").forEach((n) => { n.textContent = ""; });
    const response = await fetch(fromForm.action, {
      method: "POST", body: new FormData(fromForm), credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).catch(() => null);
    const data = response ? await response.json().catch(() => ({})) : { errors: { __all__: [{ message: "Network error." }] } };
    if (!response || !response.ok || !data.ok) {
      for (const [field, list] of Object.entries(data.errors || {})) {
        const slot = fromForm.querySelector(`[data-error-for="${field}"]`) || fromForm.querySelector('[data-error-for="__all__"]');
        slot.textContent = list.map((e) => e.message || e).join(" ");
      }
      return;
    }
    body.dataset.ringoutFrom = data.from_number;
    document.querySelectorAll("[data-ringout-from-display]").forEach((n) => { n.textContent = fmt(data.from_number); });
    closeDialog();
    if (pendingDial) {
      const { to, display } = pendingDial;
      pendingDial = null;
      start(to, display);
    } else if (current) {
      el("from").textContent = fmt(data.from_number);
    }
  });
  dialog.querySelector("[data-close]").addEventListener("click", () => { pendingDial = null; closeDialog(); });
  // Escape closes a modal dialog natively: the call it was asked for is abandoned too.
  dialog.addEventListener("cancel", () => { pendingDial = null; });
  fromForm.querySelector("#ringout-other").addEventListener("focus", () => {
    const other = fromForm.querySelector('input[name="choice"][value="other"]');
    if (other) other.checked = true;
  });

  // ------------------------------------------------------------------ call from my phone
  // POST /api/callout/ (RingCentral Call Control's call-out): the agent's chosen phone
  // (desk phone or softphone, remembered in this browser) rings, then calls the number.
  const coDialog = document.getElementById("callout-dialog");
  const coPanel = document.getElementById("callout-panel");
  const DEVICE_KEY = "crm_cti_callout_device";
  let coPending = null;
  const co = (name) => document.querySelector(`[data-co="${name}"]`);

  async function openDeviceDialog(to, display) {
    coPending = { to, display };
    co("to").textContent = display;
    co("dialog-error").textContent = "";
    const box = co("devices");
    box.querySelectorAll("label").forEach((n) => n.remove());
    if (typeof coDialog.showModal === "function") coDialog.showModal(); else coDialog.setAttribute("open", "");
    const result = await api("GET", "/api/callcontrol/devices/").catch(() => null);
    if (!result || !result.ok) {
      co("dialog-error").textContent = result ? errorText(result.data, result.status) : "Network error.";
      return;
    }
    const saved = localStorage.getItem(DEVICE_KEY);
    result.data.devices.forEach((d, i) => {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "device";
      input.value = d.id;
      input.dataset.name = d.name || d.type;
      input.checked = saved ? saved === d.id : i === 0;
      label.append(input, ` ${d.name || d.type}`);
      box.appendChild(label);
    });
  }

  async function callOut(to, display) {
    const device = localStorage.getItem(DEVICE_KEY);
    if (!device) { openDeviceDialog(to, display); return; }
    coPanel.hidden = false;
    co("panel-to").textContent = display || fmt(to);
    co("from").textContent = localStorage.getItem(`${DEVICE_KEY}_name`) || "my phone";
    co("error").textContent = "";
    co("status").textContent = "Calling…";
    const result = await api("POST", "/api/callout/", { to, device_id: device }).catch(() => null);
    if (!result || !result.ok) {
      co("status").textContent = "";
      co("error").textContent = result ? errorText(result.data, result.status) : "Network error: the call was not placed.";
      return;
    }
    co("status").textContent = result.data.message;
  }

  if (coDialog && coPanel) {
    document.getElementById("callout-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const picked = coDialog.querySelector('input[name="device"]:checked');
      if (!picked) { co("dialog-error").textContent = "Choose the phone to call from."; return; }
      localStorage.setItem(DEVICE_KEY, picked.value);
      localStorage.setItem(`${DEVICE_KEY}_name`, picked.dataset.name);
      if (typeof coDialog.close === "function") coDialog.close(); else coDialog.removeAttribute("open");
      if (coPending && coPending.to) callOut(coPending.to, coPending.display);
      coPending = null;
    });
    coDialog.querySelector("[data-co-close]").addEventListener("click", () => {
      coPending = null;
      if (typeof coDialog.close === "function") coDialog.close(); else coDialog.removeAttribute("open");
    });
    coPanel.querySelector("[data-co-change]").addEventListener("click", () => {
      openDeviceDialog(coPanel.dataset.to || "", co("panel-to").textContent);
    });
    coPanel.querySelector("[data-co-dismiss]").addEventListener("click", () => { coPanel.hidden = true; });
  }

  // ------------------------------------------------------------------ wiring
  document.addEventListener("click", (event) => {
    const mine = event.target.closest("[data-callout]");
    if (mine && coDialog) {
      event.preventDefault();
      coPanel.dataset.to = mine.dataset.callout;
      callOut(mine.dataset.callout, mine.dataset.display || fmt(mine.dataset.callout));
      return;
    }
    const button = event.target.closest("[data-ringout]");
    if (button) {
      event.preventDefault();
      start(button.dataset.ringout, button.dataset.display || fmt(button.dataset.ringout));
      return;
    }
    if (event.target.closest("[data-ringout-change]")) {
      event.preventDefault();
      openDialog();
    }
  });
  panel.querySelector("[data-ro-change]").addEventListener("click", openDialog);
  cancelButton.addEventListener("click", cancel);
  panel.querySelector("[data-ro-close]").addEventListener("click", close);
  document.addEventListener("crm:message", onMessage);
  window.crmDial = { start, fmt };
})();
