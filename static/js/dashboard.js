// Dashboard: pop cards for live calls, driven by /ws/agent/ (see live.js): the snapshot on
// every (re)connect restores every live card, then each "call" message updates one card.
(function () {
  "use strict";
  const LIVE = new Set(["ringing", "connected", "on_hold", "parked"]);
  const STATE_LABEL = { ringing: "Ringing", connected: "Connected", on_hold: "On hold", parked: "Parked", ended: "Ended", missed: "Missed", voicemail: "Voicemail" };
  const RECENT_MAX = 15;
  const container = document.getElementById("cards");
  const template = document.getElementById("card-template");
  const emptyNote = document.getElementById("no-calls");
  const liveCount = document.getElementById("live-count");
  const recentList = document.getElementById("recent-calls");
  const cards = new Map(); // call id -> {el, call, dirty}
  // The agent's pop settings and the team's rules, delivered with the page (see views.dashboard).
  const settings = JSON.parse(document.getElementById("page-settings").textContent || "{}");
  const dispositions = new Map((settings.dispositions || []).map((d) => [String(d.id), d]));
  const ownNumbers = new Set(settings.own_numbers || []);
  const seenLive = new Set(); // calls this tab saw live, with or without a card
  const CONTACT_TAB = "crm_cti_contact"; // one tab for every contact page a pop opens
  // Cards dismissed in this tab: a reload within the linger time must not bring them back.
  const DISMISSED_KEY = "crm_cti_dismissed";
  const dismissed = new Set(JSON.parse(sessionStorage.getItem(DISMISSED_KEY) || "[]"));
  function rememberDismissed(id) {
    dismissed.add(id);
    sessionStorage.setItem(DISMISSED_KEY, JSON.stringify([...dismissed].slice(-50)));
  }
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
    // "Call from my phone" (Call Control's call-out), shown where the app has CallControl.
    const mine = document.createElement("button");
    mine.type = "button";
    mine.className = "dial-callout";
    mine.dataset.callout = target;
    mine.dataset.display = display(number);
    mine.textContent = "My phone";
    mine.setAttribute("aria-label", `Call ${display(number)} from my phone`);
    actions.append(ro, mine, app, tel);
    wrap.appendChild(actions);
    return wrap;
  }

  const isExtension = (number) => /^\d{1,6}$/.test((number || "").trim());
  const otherNumber = (call) => (call.direction === "inbound" ? call.from_number : call.to_number);
  const otherName = (call) => (call.direction === "inbound" ? call.from_name : call.to_name);
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  // Which kind of call for the "which calls pop" settings: a queue call is an inbound call
  // to a number that is not the agent's own (a call queue's or the company's number).
  function callKind(call) {
    if (isExtension(otherNumber(call))) return "internal";
    if (call.direction === "outbound") return "outbound";
    const to = dialable(call.to_number);
    if (to && !isExtension(to) && ownNumbers.size && !ownNumbers.has(to)) return "queue";
    return "inbound";
  }

  function pops(call) {
    if (settings[`pop_${callKind(call)}`] === false) return false;
    if (settings.pop_on === "off") return false;
    if (settings.pop_on === "answer") return ["connected", "on_hold", "parked"].includes(call.state);
    return true;
  }

  // A call that just ended (the snapshot keeps those a while): shown if it had popped.
  function poppedBefore(call) {
    if (settings[`pop_${callKind(call)}`] === false || settings.pop_on === "off") return false;
    return settings.pop_on !== "answer" || Boolean(call.answered_at);
  }

  // The team requires a disposition on answered calls: the card stays until it is set.
  function needsDisposition(call) {
    return Boolean(settings.require_disposition) && !LIVE.has(call.state) && Boolean(call.answered_at) && !call.disposition;
  }

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
    field(el, "dismiss").addEventListener("click", () => dismiss(entry));
    field(el, "lookup").addEventListener("input", () => lookupContacts(entry));
    field(el, "add-number").addEventListener("toggle", () => { if (field(el, "add-number").open) lookupContacts(entry); });
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
    const match = call.match || {};
    const companyLine = match.rule === "company_line";
    const asking = match.rule === "ask" && !contact;
    let title = contact ? contact.name : "Unknown caller";
    if (!contact && internal) title = name || `Ext. ${otherNumber(call)}`;
    if (companyLine) title = match.company;
    if (asking) title = "Which contact is calling?";
    field(el, "title").textContent = title;
    const companyParts = [];
    if (contact && contact.company) companyParts.push(contact.company);
    if (companyLine) companyParts.push("Company line");
    else if (!contact && internal) companyParts.push(`Colleague · ext. ${otherNumber(call)}`);
    else if (!contact && name) companyParts.push(`Caller ID: ${name}`);
    field(el, "company").textContent = companyParts.join(" · ");
    const others = field(el, "others");
    others.hidden = !(contact && contact.others) || Boolean(match.candidates);
    others.textContent = contact && contact.others ? `+${contact.others} other contact${contact.others > 1 ? "s" : ""} with this number` : "";
    const badge = field(el, "state");
    badge.textContent = window.crmCardStatus.badge(call) || STATE_LABEL[call.state] || call.state;
    badge.className = `badge badge-${call.state}`;
    window.crmCardStatus.update(el, call);
    const dir = field(el, "direction");
    dir.textContent = call.direction === "inbound" ? "Inbound" : "Outbound";
    dir.className = `badge badge-${call.direction}`;
    const numberSlot = field(el, "number");
    if (numberSlot.dataset.number !== otherNumber(call)) {
      numberSlot.textContent = "";
      numberSlot.appendChild(dialWidget(otherNumber(call)));
      numberSlot.dataset.number = otherNumber(call) || "";
    }
    // The caller's SMS thread (calls, messages and voicemails are on "Call details").
    const thread = field(el, "thread-link");
    const external = !isExtension(otherNumber(call)) && dialable(otherNumber(call));
    thread.hidden = !external;
    if (external) thread.href = `/messages/${encodeURIComponent(external)}/`;
    const link = field(el, "contact-link");
    link.hidden = !contact && !companyLine;
    if (contact) { link.href = contact.url; link.textContent = "Open contact"; }
    else if (companyLine) { link.href = `/contacts/?q=${encodeURIComponent(match.company)}`; link.textContent = `Contacts at ${match.company}`; }
    // Nobody to create for a colleague, a company's switchboard or a number several share.
    const unknown = !contact && Boolean(otherNumber(call)) && !internal && !companyLine && !match.candidates;
    field(el, "create-form").hidden = !unknown;
    field(el, "add-number").hidden = !unknown;
    if (unknown && !field(el, "lookup").value && name) field(el, "lookup").value = name;
    field(el, "why").hidden = !whyText(call);
    field(el, "why").textContent = whyText(call);
    updateCandidates(entry, call);
    field(el, "dismiss").hidden = LIVE.has(call.state);
    el.classList.toggle("card-needs-disposition", needsDisposition(call));
    if (window.crmCallActions) window.crmCallActions.render(el, call); // card_actions.js
    const notesForm = field(el, "notes-form");
    if (!entry.dirty && document.activeElement !== notesForm.notes) {
      notesForm.notes.value = call.notes || "";
      notesForm.disposition.value = call.disposition || "";
    }
    tickCard(entry);
  }

  const LABELS = { updated: "the most recently updated of", recent_call: "the one with the most recent call of" };

  // "Why this match": which stored number matched, and how one of several was chosen.
  function whyText(call) {
    const match = call.match || {};
    if (!call.contact || !match.rule) return match.rule === "company_line" ? `${display(otherNumber(call))} is ${match.company}'s company line` : "";
    const stored = match.number ? `Matched the ${(match.label || "").toLowerCase()} number stored as ${match.number}`.replace("the  number", "the number") : "Matched by number";
    const count = (match.candidates || []).length;
    if (match.rule === "choice") return `${stored} · your pick for this number`;
    if (LABELS[match.rule] && count) return `${stored} · ${LABELS[match.rule]} ${call.contact.others + 1} contacts`;
    return stored;
  }

  function updateCandidates(entry, call) {
    const box = field(entry.el, "candidates");
    const list = (call.match && call.match.candidates) || [];
    box.hidden = list.length < 2;
    if (box.hidden) return;
    const asking = call.match.rule === "ask" && !call.contact;
    field(entry.el, "candidates-title").textContent = asking ? `${list.length} contacts have this number: who is it?` : "Someone else?";
    if (asking) box.open = true;
    const ul = field(entry.el, "candidate-list");
    const key = list.map((c) => c.id).join(",") + `:${call.contact ? call.contact.id : ""}`;
    if (ul.dataset.key === key) return;
    ul.dataset.key = key;
    ul.textContent = "";
    for (const candidate of list) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-small";
      button.textContent = candidate.company ? `${candidate.name} (${candidate.company})` : candidate.name;
      button.disabled = Boolean(call.contact && call.contact.id === candidate.id);
      button.addEventListener("click", () => chooseContact(entry, candidate.id));
      li.appendChild(button);
      ul.appendChild(li);
    }
  }

  function tickCard(entry) {
    field(entry.el, "timer").textContent = clock(elapsed(entry.call));
    window.crmCardStatus.tick(entry.el, entry.call, clock);
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
    const wasSeen = seenLive.has(call.id);
    if (LIVE.has(call.state)) seenLive.add(call.id);
    if (isNew) {
      // A live call pops as the agent's settings say (it shows in Recent calls anyway). An
      // ended call gets a card while its required disposition is missing (the page lists
      // those), or from a snapshot if it had popped; one never seen live is history only.
      const show = LIVE.has(call.state)
        ? pops(call)
        : needsDisposition(call) ? (fromSnapshot || wasSeen) : fromSnapshot && poppedBefore(call);
      if (!show || (!LIVE.has(call.state) && dismissed.has(call.id))) return;
      entry = createCard(call);
      cards.set(call.id, entry);
      container.prepend(entry.el);
    }
    updateCard(entry, call);
    refreshEmpty();
    if (isNew && LIVE.has(call.state) && !fromSnapshot) popped(call);
  }

  // What a pop does besides the card: the contact page, a notification, a flashing title.
  function popped(call) {
    if (settings.open_contact && call.contact && call.contact.url) {
      const tab = window.open(call.contact.url, CONTACT_TAB);
      if (!tab) startFlash("Allow pop-ups to open contact pages");
    }
    announce(call);
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

  async function postData(url, data) {
    const body = new FormData();
    for (const [k, v] of Object.entries(data)) body.append(k, v);
    const response = await fetch(url, {
      method: "POST", body, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf() },
    });
    const json = await response.json().catch(() => ({ ok: false, errors: { __all__: [{ message: `Error ${response.status}` }] } }));
    return { ok: response.ok && json.ok !== false, data: json };
  }

  const errorText = (errors) => Object.values(errors || {}).flat().map((e) => e.message || e).join(" ");

  async function dismiss(entry) {
    const slot = field(entry.el, "dismiss-error");
    try {
      const { ok, data } = await postData(`/calls/${entry.call.id}/dismiss/`, {});
      if (!ok) {
        slot.textContent = errorText(data.errors);
        return;
      }
      rememberDismissed(entry.call.id);
      removeCard(entry.call.id);
    } catch (err) {
      slot.textContent = "Network error: try again.";
    }
  }

  async function chooseContact(entry, contactId) {
    const slot = field(entry.el, "candidates-error");
    try {
      const { ok, data } = await postData(`/calls/${entry.call.id}/contact/`, { contact: contactId });
      slot.textContent = ok ? "" : errorText(data.errors);
      if (ok && data.call) updateCard(entry, data.call);
      if (ok) field(entry.el, "candidates").open = false;
    } catch (err) {
      slot.textContent = "Network error: try again.";
    }
  }

  let lookupTimer = null;
  function lookupContacts(entry) {
    clearTimeout(lookupTimer);
    lookupTimer = setTimeout(async () => {
      const q = field(entry.el, "lookup").value.trim();
      const ul = field(entry.el, "lookup-results");
      if (!q) { ul.textContent = ""; return; }
      try {
        const response = await fetch(`/contacts/lookup/?q=${encodeURIComponent(q)}`, { credentials: "same-origin", headers: { Accept: "application/json" } });
        const data = await response.json();
        ul.textContent = "";
        for (const contact of data.contacts || []) {
          const li = document.createElement("li");
          const button = document.createElement("button");
          button.type = "button";
          button.className = "btn btn-small";
          button.textContent = `Add this number to ${contact.name}${contact.company ? ` (${contact.company})` : ""}`;
          button.addEventListener("click", () => addNumber(entry, contact.id));
          li.appendChild(button);
          ul.appendChild(li);
        }
        if (!ul.children.length) ul.textContent = "No contact found.";
      } catch (err) {
        ul.textContent = "Network error: try again.";
      }
    }, 250);
  }

  async function addNumber(entry, contactId) {
    const slot = field(entry.el, "add-number-error");
    try {
      const { ok, data } = await postData(`/calls/${entry.call.id}/add-number/`, { contact: contactId });
      slot.textContent = ok ? "" : errorText(data.errors);
      if (ok && data.call) updateCard(entry, data.call);
    } catch (err) {
      slot.textContent = "Network error: try again.";
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
    badge.textContent = call.outcome_text || STATE_LABEL[call.state] || call.state;
    const a = document.createElement("a");
    a.className = "who";
    a.href = `/calls/${call.id}/`;
    const match = call.match || {};
    a.textContent = call.contact
      ? call.contact.name
      : match.rule === "company_line" ? match.company
        : match.rule === "ask" ? "One of several contacts"
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
    if (settings.desktop_notification !== false && "Notification" in window && Notification.permission === "granted") {
      try {
        const heading = call.direction === "outbound" ? `Call with ${who}` : `Incoming call: ${who}`;
        const n = new Notification(heading, { body: number, tag: `call-${call.id}` });
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
  if ("Notification" in window && Notification.permission === "default" && settings.desktop_notification !== false) {
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
      // Rendered: say so (the card is in the DOM now).
      if (window.crmLive) window.crmLive.receipt(message);
    }
  });

  // Leaving the dashboard while a required disposition is missing: the browser asks first
  // (the card comes back on the next visit anyway: the server lists those calls).
  window.addEventListener("beforeunload", (event) => {
    if ([...cards.values()].some((e) => needsDisposition(e.call))) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  setInterval(() => { for (const entry of cards.values()) if (LIVE.has(entry.call.state)) tickCard(entry); }, 1000);

  // The page was rendered with the live calls: show them before the socket connects.
  const initial = JSON.parse(document.getElementById("live-calls").textContent || "[]");
  for (const call of initial) upsert(call, { fromSnapshot: true });
  refreshEmpty();
})();
