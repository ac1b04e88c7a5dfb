// Call-control buttons on the dashboard's cards (RingCentral Call Control through
// POST /api/calls/<id>/control/<action>/). dashboard.js calls crmCallActions.render(card,
// call) on every update; the buttons follow the call's state, and the card's state changes
// only when the platform's event arrives (a press shows "Holding…", never "On hold").
// Offered only when the agent's token carries CallControl (body[data-call-control]) and the
// call is theirs, or the viewer is an admin.
(function () {
  "use strict";
  const body = document.body;
  const enabled = body.dataset.callControl === "1";
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  let devicesPromise = null;
  // A consultation in progress, per call, kept across a reload of the tab.
  const CONSULT_KEY = "crm_cti_consults";
  const consults = JSON.parse(sessionStorage.getItem(CONSULT_KEY) || "{}");
  function rememberConsult(callId, sessionId) {
    if (sessionId) consults[callId] = sessionId; else delete consults[callId];
    sessionStorage.setItem(CONSULT_KEY, JSON.stringify(consults));
  }

  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `Error ${response.status}`);
    return data;
  }
  const devices = () => (devicesPromise = devicesPromise || getJSON("/api/callcontrol/devices/").then((d) => d.devices).catch((e) => { devicesPromise = null; throw e; }));
  // Asked afresh each time a picker opens: the colleagues' live state changes by the minute.
  const choices = () => getJSON("/api/callcontrol/choices/");

  async function press(callId, action, data) {
    let response;
    try {
      response = await fetch(`/api/calls/${callId}/control/${action}/`, {
        method: "POST", credentials: "same-origin", body: JSON.stringify(data || {}),
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
      });
    } catch (err) {
      return { ok: false, data: { error: "Network error: nothing was sent to RingCentral." } };
    }
    const json = await response.json().catch(() => ({ error: `Error ${response.status}` }));
    return { ok: response.ok && json.ok === true, data: json };
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v);
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function button(label, action, extra) {
    return el("button", { type: "button", class: `btn btn-small${extra ? ` ${extra}` : ""}`, dataset: { action } }, label);
  }

  function mine(call) {
    return String(call.agent_id) === body.dataset.agentId || body.dataset.admin === "1";
  }

  // A picker (details) with a colleague select, a number input and one submit button.
  function targetPicker(slot, label, action, submitLabel) {
    const box = el("details", { class: "cc-picker", dataset: { picker: action } });
    box.appendChild(el("summary", { class: "btn btn-small" }, label));
    const select = el("select", { "aria-label": `${label}: colleague`, dataset: { colleague: "" } });
    select.appendChild(el("option", { value: "" }, "Colleague…"));
    const number = el("input", { type: "tel", placeholder: "or a number", "aria-label": `${label}: number`, dataset: { number: "" } });
    const go = button(submitLabel, action, "btn-primary");
    box.append(select, number, go);
    box.addEventListener("toggle", async () => {
      if (!box.open) return;
      try {
        const data = await choices();
        while (select.options.length > 1) select.remove(1);
        for (const c of data.colleagues) {
          select.appendChild(el("option", { value: c.extension_number }, `${c.name} (ext. ${c.extension_number}) — ${c.state}`));
        }
      } catch (err) { say(slot, err.message, true); }
    });
    return box;
  }

  // The phone chosen last, for answering as for "My phone" (dial.js keeps the same key).
  const DEVICE_KEY = "crm_cti_callout_device";

  function deviceSelect(label) {
    const select = el("select", { "aria-label": label, dataset: { device: "" } });
    devices().then((list) => {
      for (const d of list) select.appendChild(el("option", { value: d.id }, d.name || d.type));
      const saved = localStorage.getItem(DEVICE_KEY);
      if (saved && list.some((d) => d.id === saved)) select.value = saved;
    }).catch(() => { select.appendChild(el("option", { value: "" }, "No phone found")); });
    select.addEventListener("change", () => {
      localStorage.setItem(DEVICE_KEY, select.value);
      localStorage.setItem(`${DEVICE_KEY}_name`, select.selectedOptions[0].textContent);
    });
    return select;
  }

  function say(slot, text, error) {
    const status = slot.querySelector("[data-cc-status]");
    const alert = slot.querySelector("[data-cc-error]");
    // The call ended while the press was on its way (its event emptied the slot): the card
    // says so already, there is nowhere left to answer.
    if (!status || !alert) return;
    status.textContent = error ? "" : text;
    alert.textContent = error ? text : "";
  }

  function buttonsFor(slot, call) {
    const row = el("div", { class: "row cc-buttons" });
    const consulting = Boolean(slot.dataset.consult);
    if (call.state === "ringing" && call.direction === "inbound") {
      const answer = el("span", { class: "cc-answer" });
      answer.append(deviceSelect("Answer on"), button("Answer", "answer", "btn-primary"));
      const reply = el("details", { class: "cc-picker", dataset: { picker: "reply" } });
      reply.appendChild(el("summary", { class: "btn btn-small" }, "Reply…"));
      const texts = el("select", { "aria-label": "Reply text", dataset: { text: "" } });
      reply.addEventListener("toggle", () => {
        if (!reply.open || texts.options.length) return;
        choices().then((d) => { for (const t of d.replies) texts.appendChild(el("option", { value: t }, t)); })
          .catch((err) => say(slot, err.message, true));
      });
      reply.append(texts, button("Send reply", "reply", "btn-primary"));
      row.append(answer, button("To voicemail", "voicemail"), targetPicker(slot, "Forward…", "forward", "Forward"), reply);
    } else if (call.state === "ringing" || call.state === "parked") {
      // An outbound call still ringing, or a call waiting in a park orbit.
      row.append(button("Hang up", "hangup", "btn-danger"));
    } else if (call.state === "connected" || call.state === "on_hold") {
      if (consulting) {
        row.append(button("Complete transfer", "consult_complete", "btn-primary"), button("Cancel transfer", "consult_cancel"));
      } else {
        row.append(call.state === "on_hold" ? button("Resume", "unhold", "btn-primary") : button("Hold", "hold"));
        row.append(targetPicker(slot, "Transfer…", "transfer", "Transfer"), targetPicker(slot, "Warm transfer…", "consult", "Consult"));
        row.append(button("Park", "park"));
        if (call.state === "connected") {
          const recording = slot.dataset.recording === "on";
          row.append(button(recording ? "Pause recording" : (slot.dataset.recording === "paused" ? "Resume recording" : "Record"), recording ? "record_pause" : "record_start"));
        }
      }
      row.append(button("Hang up", "hangup", "btn-danger"));
    }
    return row;
  }

  function dataFor(slot, row, action) {
    const picker = row.closest("[data-picker]");
    const data = {};
    if (picker && picker.querySelector("[data-number]")) {
      data.to = picker.querySelector("[data-number]").value.trim() || picker.querySelector("[data-colleague]").value;
    }
    if (action === "answer") data.device_id = slot.querySelector("[data-device]").value;
    if (action === "reply") data.text = slot.querySelector("[data-text]").value;
    if (action === "consult_complete" || action === "consult_cancel") data.consult_session_id = slot.dataset.consult;
    return data;
  }

  async function onClick(slot, event) {
    const target = event.target.closest("button[data-action]");
    if (!target || target.disabled) return;
    const action = target.dataset.action;
    const callId = slot.dataset.callId;
    target.disabled = true;
    // The buttons this press was made from: the platform's event that confirms it redraws
    // them, and that redraw keeps the press's answer (render), whether it comes before or
    // after the answer does.
    slot.dataset.pressedFrom = slot.dataset.drawn;
    say(slot, "Asking RingCentral…");
    const { ok, data } = await press(callId, action, dataFor(slot, target, action));
    target.disabled = false;
    if (!ok) {
      // Refused: nothing changes at RingCentral, so the next redraw is not this press's.
      delete slot.dataset.pressedFrom;
      // The sign-in check in front of every API answers {"error": code, "message": text}.
      say(slot, data.message || data.error || "RingCentral refused.", true);
      return;
    }
    say(slot, data.message || "Done.");
    // What only the answer tells (no call state of the card says it): the consultation
    // call to complete, and whether the recording runs.
    if (action === "consult") slot.dataset.consult = data.consult_session_id;
    if (action === "consult_complete" || action === "consult_cancel") delete slot.dataset.consult;
    if (action.startsWith("consult")) rememberConsult(callId, slot.dataset.consult);
    if (action === "record_start") slot.dataset.recording = "on";
    if (action === "record_pause") slot.dataset.recording = "paused";
    if (["consult", "consult_complete", "consult_cancel", "record_start", "record_pause"].includes(action)) {
      const confirming = slot.dataset.pressedFrom !== undefined;
      draw(slot, slot._call);
      // Redrawn here, not by an event: the event still to come confirms from these buttons.
      if (confirming) slot.dataset.pressedFrom = slot.dataset.drawn;
    }
  }

  function draw(slot, call) {
    const old = slot.querySelector(".cc-buttons");
    const row = buttonsFor(slot, call);
    if (old) old.replaceWith(row); else slot.prepend(row);
    slot.dataset.drawn = `${call.state}:${slot.dataset.consult || ""}:${slot.dataset.recording || ""}`;
  }

  function render(card, call) {
    const slot = card.querySelector("[data-call-actions]");
    if (!slot) return;
    // "parked": the state telephony-session events give a parked call.
    const live = ["ringing", "connected", "on_hold", "parked"].includes(call.state);
    if (!enabled || !mine(call) || !live) {
      if (!live && consults[call.id]) rememberConsult(call.id, "");
      slot.hidden = true;
      slot.textContent = "";
      delete slot.dataset.drawn;
      delete slot.dataset.pressedFrom;
      return;
    }
    slot.hidden = false;
    slot._call = call;
    if (!slot.dataset.callId) {
      slot.dataset.callId = call.id;
      if (consults[call.id]) slot.dataset.consult = consults[call.id];
      slot.append(el("span", { class: "small muted", role: "status", dataset: { ccStatus: "" } }),
        el("div", { class: "form-error", role: "alert", dataset: { ccError: "" } }));
      slot.addEventListener("click", (event) => onClick(slot, event));
    }
    // Redrawn only when what decides the buttons changed: an open picker survives the rest.
    if (slot.dataset.drawn === `${call.state}:${slot.dataset.consult || ""}:${slot.dataset.recording || ""}`) return;
    // The first redraw away from the buttons a press was made from is that press confirmed:
    // its answer ("Parked at *801.") still applies. Any other change makes it stale.
    const confirmed = slot.dataset.pressedFrom === slot.dataset.drawn;
    delete slot.dataset.pressedFrom;
    draw(slot, call);
    if (!confirmed) say(slot, "");
  }

  window.crmCallActions = { render, devices };
})();
