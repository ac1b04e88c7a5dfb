// What a telephony session tells on a pop card (hold with its timer, park with the orbit,
// answered elsewhere, transferred with the first agent's notes, voicemail), and the hooks the
// call-control buttons use: data-party-id, data-telephony-session-id, data-party-status on the
// card; card_actions.js fills the empty [data-call-actions] slot. Loaded before dashboard.js.
(function () {
  "use strict";
  const LIVE = new Set(["ringing", "connected", "on_hold", "parked"]);
  // The badge when the session says more than the state (serializers.call_outcome).
  const OUTCOME_LABEL = { answered_elsewhere: "Answered elsewhere", transferred: "Transferred", picked_up: "Picked up", forwarded: "Forwarded", replied: "Replied" };

  function field(el, name) {
    return el.querySelector(`[data-f="${name}"]`);
  }

  function update(el, call) {
    el.dataset.outcome = call.outcome || "";
    el.dataset.partyId = call.party_id || "";
    el.dataset.telephonySessionId = call.telephony_session_id || "";
    el.dataset.partyStatus = call.party_status || "";
    field(el, "outcome-text").textContent = call.outcome_text || "";
    field(el, "hold-timer").hidden = !(LIVE.has(call.state) && call.hold_started_at);
    field(el, "call-status").hidden = !call.outcome_text;
    const from = call.transferred_from;
    field(el, "handover").hidden = !from;
    if (from) {
      field(el, "handover-from").textContent = `Transferred from ${from.agent_name || "a colleague"}`;
      field(el, "handover-disposition").textContent = from.disposition_label ? `Disposition: ${from.disposition_label}` : "No disposition yet";
      field(el, "handover-notes").textContent = from.notes || "No notes";
    }
  }

  function tick(el, call, clock) {
    if (LIVE.has(call.state) && call.hold_started_at) {
      // Runs from when the hold began (the platform's event time), not from this tab's view.
      field(el, "hold-timer").textContent = clock((Date.now() - Date.parse(call.hold_started_at)) / 1000);
    }
  }

  function badge(call) {
    return OUTCOME_LABEL[call.outcome] || "";
  }

  window.crmCardStatus = { update, tick, badge };
})();
