// Dashboard: pop cards for live calls, driven by /ws/agent/ (see live.js): the snapshot on
// every (re)connect restores every live card, then each "call" message updates one card.
(function () {
  "use strict";
  const LIVE = new Set(["ringing", "connected", "on_hold"]);
  const STATE_LABEL = { ringing: "Ringing", connected: "Connected", on_hold: "On hold", ended: "Ended", missed: "Missed", voicemail: "Voicemail" };
  const RECENT_MAX = 15;
  const container = document.getElementById("cards");
  const template = document.getElementById("card-template");
  const emptyNote = document.getElementById("no-calls");
  const liveCount = document.getElementById("live-count");
  const recentList = document.getElementById("recent-calls");
  const cards = new Map(); // call id -> {el, call, dirty}
  const baseTitle = document.title;
  let flashTimer = null;

  // ---------------------------------------------------------------- helpers
  function dialable(number) {
    const n = (number || "").trim();
    if (/^\d{1,6}$/.test(n)) return n; // extension
    const digits = n.replace(/[^\d]/g, "");
    if (n.startsWith("+")) return `+${digits}`;
    if (digits.length === 11 && digits.startsWith("1")) return `+${digits}`;
    if (digits.length === 10) return `+1${digits}`;
    return digits ? `+${digits}` : "";
  }

  function display(number) {
    const n = dialable(number);
    if (/^\d{1,6}$/.test(n)) return `ext. ${n}`;
    const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(n);
    return m ? `(${m[1]}) ${m[2]}-${m[3]}` : (n || number || "");
  }

  function dialWidget(number) {
    const target = dialable(number);
    const wrap = document.createElement("span");
    wrap.className = "dial";
    const num = document.createElement("span");
    num.className = "dial-number";
    num.textContent = display(number) || "unknown number";
    wrap.appendChild(num);
    if (!target) return wrap;
    const actions = document.createElement("span");
    actions.className = "dial-actions";
    const ro = document.createElement("button");
    ro.type = "button";
    ro.className = "dial-ringout";
    ro.dataset.ringout = target;
    ro.dataset.display = display(number);
    ro.textContent = "RingOut";
    ro.setAttribute("aria-label", `Call ${display(number)} with RingOut`);
    const app = document.createElement("a");
    app.className = "dial-link";
    app.href = `rcmobile://call?number=${encodeURIComponent(target.replace(/^\+/, ""))}`;
    app.textContent = "App";
    app.setAttribute("aria-label", `Call ${display(number)} in the RingCentral app`);
    const tel = document.createElement("a");
    tel.className = "dial-link";
    tel.href = `tel:${target}`;
    tel.textContent = "tel";
    tel.setAttribute("aria-label", `Call ${display(number)} with tel:`);
    actions.append(ro, app, tel);
    wrap.appendChild(actions);
    return wrap;
  }

  const isExtension = (number) => /^\d{1,6}$/.test((number || "").trim());
  const otherNumber = (call) => (call.direction === "inbound" ? call.from_number : call.to_number);
  const otherName = (call) => (call.direction === "inbound" ? call.from_name : call.to_name);
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
  }

  function elapsed(call) {
    if (!LIVE.has(call.state)) return call.duration ?? 0;
    const since = call.state === "ringing" ? call.started_at : (call.answered_at || call.started_at);
    return since ? (Date.now() - Date.parse(since)) / 1000 : 0;
  }

  // ---------------------------------------------------------------- cards
  function field(el, name) {
    return el.querySelector(`[data-f="${name}"]`);
  }

  function createCard(call) {
    const el = template.content.firstElementChild.cloneNode(true);
    el.dataset.callId = call.id;
    const ids = `call-${call.id}`;
    el.setAttribute("aria-labelledby", `${ids}-title`);
    field(el, "title").id = `${ids}-title`;
    const entry = { el, call, dirty: false };
    const notesForm = field(el, "notes-form");
    notesForm.action = `/calls/${call.id}/notes/`;
    notesForm.notes.value = call.notes || "";
    notesForm.disposition.value = call.disposition || "";
    notesForm.notes.addEventListener("input", () => { entry.dirty = true; field(el, "save-state").textContent = "Not saved"; });
    notesForm.disposition.addEventListener("change", () => { entry.dirty = true; field(el, "save-state").textContent = "Not saved"; });
    notesForm.addEventListener("submit", (event) => saveNotes(event, entry));
    const createForm = field(el, "create-form");
    createForm.phone.value = dialable(otherNumber(call)) || otherNumber(call) || "";
    createForm.addEventListener("submit", (event) => createContact(event, entry));
    field(el, "callback").addEventListener("click", () => {
      const n = dialable(otherNumber(entry.call));
      if (n && window.crmDial) window.crmDial.start(n, display(n));
    });
    field(el, "dismiss").addEventListener("click", () => removeCard(entry.call.id));
    field(el, "detail-link").href = `/calls/${call.id}/`;
    // A message to the caller: SMS to a phone number, a pager message to an extension.
    const message = field(el, "message");
    const target = dialable(otherNumber(call));
    const internal = isExtension(target);
    const messageForm = message.querySelector("form");
    messageForm.querySelector('input[name="to"]').value = target;
    if (internal) {
      messageForm.action = messageForm.dataset.pagerAction;
      field(el, "sms-from").remove();
      field(el, "message-title").textContent = "Send pager message";
      field(el, "message-send").textContent = "Send pager message";
    } else if (!target || message.hasAttribute("data-no-sms")) {
      message.remove();
    }
    // Label the card's inputs uniquely so screen readers and tests can tell cards apart.
    el.querySelectorAll("textarea, input, select").forEach((input) => {
      if (input.name && input.type !== "hidden") input.id = `${ids}-${input.name}`;
    });
    return entry;
  }

  function updateCard(entry, call) {
    const el = entry.el;
    entry.call = call;
    el.dataset.state = call.state;
    const contact = call.contact;
    const name = otherName(call);
    // A colleague calling from their extension is not a CRM contact.
    const internal = isExtension(otherNumber(call));
    let title = contact ? contact.name : "Unknown caller";
    if (!contact && internal) title = name || `Ext. ${otherNumber(call)}`;
    field(el, "title").textContent = title;
    const companyParts = [];
    if (contact && contact.company) companyParts.push(contact.company);
    if (!contact && internal) companyParts.push(`Colleague · ext. ${otherNumber(call)}`);
    else if (!contact && name) companyParts.push(`Caller ID: ${name}`);
    field(el, "company").textContent = companyParts.join(" · ");
    const others = field(el, "others");
    others.hidden = !(contact && contact.others);
    others.textContent = contact && contact.others ? `+${contact.others} other contact${contact.others > 1 ? "s" : ""} with this number` : "";
    const badge = field(el, "state");
    badge.textContent = STATE_LABEL[call.state] || call.state;
    badge.className = `badge badge-${call.state}`;
    const dir = field(el, "direction");
    dir.textContent = call.direction === "inbound" ? "Inbound" : "Outbound";
    dir.className = `badge badge-${call.direction}`;
    const numberSlot = field(el, "number");
    if (numberSlot.dataset.number !== otherNumber(call)) {
      numberSlot.textContent = "";
      numberSlot.appendChild(dialWidget(otherNumber(call)));
      numberSlot.dataset.number = otherNumber(call) || "";
    }
    const link = field(el, "contact-link");
    link.hidden = !contact;
    if (contact) link.href = contact.url;
    field(el, "create-form").hidden = Boolean(contact) || !otherNumber(call) || internal;
    field(el, "dismiss").hidden = LIVE.has(call.state);
    const notesForm = field(el, "notes-form");
    if (!entry.dirty && document.activeElement !== notesForm.notes) {
      notesForm.notes.value = call.notes || "";
      notesForm.disposition.value = call.disposition || "";
    }
    tickCard(entry);
  }

  function tickCard(entry) {
    field(entry.el, "timer").textContent = clock(elapsed(entry.call));
  }

  function refreshEmpty() {
    emptyNote.hidden = cards.size > 0;
    const live = [...cards.values()].filter((e) => LIVE.has(e.call.state)).length;
    liveCount.textContent = live;
  }

  function upsert(call, { fromSnapshot = false } = {}) {
    if (!call || call.id === undefined) return;
    let entry = cards.get(call.id);
    const isNew = !entry;
    if (isNew) {
      if (!LIVE.has(call.state) && !fromSnapshot) {
        // A call we never showed live (ended while the tab was closed): history only.
        return;
      }
      entry = createCard(call);
      cards.set(call.id, entry);
      container.prepend(entry.el);
    }
    updateCard(entry, call);
    refreshEmpty();
    if (isNew && call.state === "ringing" && !fromSnapshot) announce(call);
  }

  function removeCard(id) {
    const entry = cards.get(id);
    if (!entry) return;
    entry.el.remove();
    cards.delete(id);
    refreshEmpty();
  }

  // ---------------------------------------------------------------- actions
  async function postForm(url, form) {
    const response = await fetch(url, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf() },
    });
    const data = await response.json().catch(() => ({ ok: false, errors: { __all__: [{ message: `Error ${response.status}` }] } }));
    return { ok: response.ok && data.ok !== false, data };
  }

  function showFormErrors(form, errors) {
    form.querySelectorAll("[data-error-for]").forEach((n) => { n.textContent = ""; });
    for (const [name, list] of Object.entries(errors || {})) {
      const slot = form.querySelector(`[data-error-for="${name}"]`) || form.querySelector('[data-error-for="__all__"]');
      if (slot) slot.textContent = list.map((e) => e.message || e).join(" ");
    }
  }

  async function saveNotes(event, entry) {
    event.preventDefault();
    const form = event.currentTarget;
    const state = field(entry.el, "save-state");
    state.textContent = "Saving…";
    try {
      const { ok, data } = await postForm(form.action, form);
      if (!ok) {
        state.textContent = "Not saved";
        showFormErrors(form, data.errors);
        return;
      }
      showFormErrors(form, {});
      entry.dirty = false;
      state.textContent = "Saved";
      if (data.call) updateCard(entry, { ...entry.call, notes: data.call.notes, disposition: data.call.disposition });
    } catch (err) {
      state.textContent = "Not saved (network error)";
    }
  }

  async function createContact(event, entry) {
    event.preventDefault();
    const form = event.currentTarget;
    try {
      const { ok, data } = await postForm(form.action, form);
      if (!ok) {
        showFormErrors(form, data.errors);
        return;
      }
      showFormErrors(form, {});
      updateCard(entry, { ...entry.call, contact: { ...data.contact, others: 0 } });
    } catch (err) {
      showFormErrors(form, { __all__: ["Network error: the contact was not created."] });
    }
  }

  // ---------------------------------------------------------------- recent calls
  function recentItem(call) {
    const li = document.createElement("li");
    li.className = "recent";
    li.dataset.callId = call.id;
    const badge = document.createElement("span");
    badge.className = `badge badge-${call.state}`;
    badge.textContent = STATE_LABEL[call.state] || call.state;
    const a = document.createElement("a");
    a.className = "who";
    a.href = `/calls/${call.id}/`;
    a.textContent = call.contact
      ? call.contact.name
      : (otherName(call) || (call.direction === "inbound" ? "Unknown caller" : "Outbound call"));
    const meta = document.createElement("span");
    meta.className = "meta muted small";
    const dur = LIVE.has(call.state) ? "live" : (call.duration != null ? clock(call.duration) : "—");
    meta.textContent = `${call.direction === "inbound" ? "Inbound" : "Outbound"} · ${dur}`;
    const when = document.createElement("span");
    when.className = "when";
    const started = call.started_at ? new Date(call.started_at) : new Date();
    when.textContent = started.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
    const number = document.createElement("span");
    number.className = "number";
    number.appendChild(dialWidget(otherNumber(call)));
    li.append(badge, a, when, number, meta);
    return li;
  }

  function upsertRecent(call) {
    if (!recentList) return;
    const empty = recentList.querySelector("[data-empty]");
    if (empty) empty.remove();
    const existing = recentList.querySelector(`li[data-call-id="${call.id}"]`);
    const item = recentItem(call);
    if (existing) existing.replaceWith(item);
    else recentList.prepend(item);
    while (recentList.children.length > RECENT_MAX) recentList.lastElementChild.remove();
  }

  // ---------------------------------------------------------------- attention
  function inFront() {
    return document.visibilityState === "visible" && document.hasFocus();
  }

  function announce(call) {
    if (inFront()) return;
    const who = call.contact ? call.contact.name : (otherName(call) || "Unknown caller");
    const number = display(otherNumber(call));
    if ("Notification" in window && Notification.permission === "granted") {
      try {
        const n = new Notification(`Incoming call: ${who}`, { body: number, tag: `call-${call.id}` });
        n.onclick = () => { window.focus(); n.close(); };
      } catch (err) { /* some browsers only allow notifications from a service worker */ }
    }
    startFlash(`☎ ${who} calling…`);
  }

  function startFlash(text) {
    stopFlash();
    let on = false;
    flashTimer = setInterval(() => {
      on = !on;
      document.title = on ? text : baseTitle;
    }, 1000);
    document.title = text;
  }

  function stopFlash() {
    if (flashTimer) clearInterval(flashTimer);
    flashTimer = null;
    document.title = baseTitle;
  }

  window.addEventListener("focus", stopFlash);
  document.addEventListener("visibilitychange", () => { if (inFront()) stopFlash(); });

  const notifyButton = document.getElementById("enable-notifications");
  if ("Notification" in window && Notification.permission === "default") {
    notifyButton.hidden = false;
    notifyButton.addEventListener("click", async () => {
      // Browsers only let a page ask on a user gesture: hence the button.
      const result = await Notification.requestPermission();
      notifyButton.hidden = true;
      if (result !== "granted") notifyButton.title = "Notifications are blocked in this browser.";
    });
  }

  // ---------------------------------------------------------------- messages
  document.addEventListener("crm:message", (event) => {
    const message = event.detail || {};
    if (message.type === "snapshot") {
      const seen = new Set();
      for (const call of message.calls || []) {
        seen.add(call.id);
        upsert(call, { fromSnapshot: true });
      }
      // A live card missing from the snapshot ended while we were disconnected.
      for (const [id, entry] of cards) {
        if (!seen.has(id) && LIVE.has(entry.call.state)) {
          updateCard(entry, { ...entry.call, state: "ended", duration: Math.round(elapsed(entry.call)) });
        }
      }
      refreshEmpty();
    } else if (message.type === "call" && message.call) {
      upsert(message.call);
      upsertRecent(message.call);
    }
  });

  setInterval(() => { for (const entry of cards.values()) if (LIVE.has(entry.call.state)) tickCard(entry); }, 1000);

  // The page was rendered with the live calls: show them before the socket connects.
  const initial = JSON.parse(document.getElementById("live-calls").textContent || "[]");
  for (const call of initial) upsert(call, { fromSnapshot: true });
  refreshEmpty();
})();
