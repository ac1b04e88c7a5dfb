"""The console page at ``/sandbox/``: make any extension's phone ring, answer, hold, hang up;
text an extension from any number; see the message stores (SMS, pager, voicemail)."""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from crm_cti.sandbox import callcontrol, config
from crm_cti.sandbox.api import sandbox_state

_SCRIPT = """
const $ = (s) => document.querySelector(s);
async function api(method, path, body) {
  const r = await fetch(path, {method, headers: {"Content-Type": "application/json"},
                               body: body ? JSON.stringify(body) : undefined});
  const data = await r.json().catch(() => ({}));
  // The periodic refresh (a GET) must not wipe the reason a press was refused.
  if (!r.ok) { $("#message").textContent = data.error || ("HTTP " + r.status); }
  else if (method !== "GET") { $("#message").textContent = ""; }
  return data;
}
// Which Call Control buttons a party's phone offers in each status.
const PARTY_BUTTONS = {
  Proceeding: ["answer", "reject", "forward"],
  Answered: ["hold", "transfer", "park", "record", "hangup"],
  Hold: ["unhold", "transfer", "hangup"],
  Parked: ["pickup"],
};
function row(call) {
  const tr = document.createElement("tr");
  tr.dataset.session = call.sessionId;
  const leg = call.legs[0];
  const cells = [call.sessionId, call.scenario, leg.extensionNumber,
                 leg.direction === "Inbound" ? leg.from : leg.to,
                 call.legs.map((l) => l.extensionNumber + ": " + l.telephonyStatus).join(", "),
                 call.active ? "live" : ("ended: " + call.legs.map((l) => l.result).join(", "))];
  for (const text of cells) {
    const td = document.createElement("td"); td.textContent = text; tr.appendChild(td);
  }
  const td = document.createElement("td");
  if (call.active) {
    for (const action of ["answer", "hold", "resume", "hangup"]) {
      const b = document.createElement("button");
      b.textContent = action; b.className = "action-" + action; b.type = "button";
      b.onclick = async () => { await api("POST", "/sandbox/calls/" + call.sessionId + "/" +
                                          action); refresh(); };
      td.appendChild(b);
    }
  }
  tr.appendChild(td);
  // Each live party: the call-control buttons of that agent's phone.
  const phones = document.createElement("td");
  if (call.active) {
    for (const leg of call.legs) {
      const actions = PARTY_BUTTONS[leg.partyStatus];
      if (!actions || leg.result !== "In Progress") continue;
      const box = document.createElement("div");
      box.className = "phone"; box.dataset.extension = leg.extensionNumber;
      box.append(leg.extensionNumber + " (" + leg.partyStatus + "): ");
      for (const action of actions) {
        const b = document.createElement("button");
        b.textContent = action; b.className = "party-" + action; b.type = "button";
        b.onclick = async () => {
          await api("POST", "/sandbox/calls/" + call.sessionId + "/parties/" + leg.partyId +
                    "/" + action, {target: $("#target").value});
          refresh();
        };
        box.appendChild(b);
      }
      phones.appendChild(box);
    }
  }
  tr.appendChild(phones);
  return tr;
}
function messageRow(m) {
  const tr = document.createElement("tr");
  const who = (p) => p ? (p.name ? p.name + " " : "") + (p.phoneNumber || p.extensionNumber || "")
                       : "";
  const state = m.type === "VoiceMail" ? "transcription " + m.vmTranscriptionStatus
                                       : m.readStatus;
  for (const text of [m.ownerId, m.type, m.direction, who(m.from), m.subject, state,
                      m.availability]) {
    const td = document.createElement("td"); td.textContent = text; tr.appendChild(td);
  }
  return tr;
}
async function refresh() {
  const calls = await api("GET", "/sandbox/calls");
  const body = $("#calls tbody");
  body.replaceChildren(...calls.reverse().map(row));
  const messages = await api("GET", "/sandbox/message-store");
  $("#messages tbody").replaceChildren(...messages.slice(0, 50).map(messageRow));
}
$("#text").onsubmit = async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const result = await api("POST", "/sandbox/sms", {
    extension: form.get("extension"), from: form.get("from"),
    name: form.get("name") || undefined, text: form.get("text")});
  if (result.id) { $("#message").textContent = "Texted: message " + result.id; }
  refresh();
};
$("#ring").onsubmit = async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const payload = {scenario: form.get("scenario"), extension: form.get("extension"),
                   from: form.get("from") || undefined, name: form.get("name") || undefined,
                   to: form.get("to") || undefined};
  const ring = form.get("ring_seconds"); const talk = form.get("talk_seconds");
  if (ring) payload.ring_seconds = Number(ring);
  if (talk) payload.talk_seconds = Number(talk);
  const result = await api("POST", "/sandbox/calls", payload);
  if (result.sessionId) { $("#message").textContent = "Ringing: session " + result.sessionId; }
  refresh();
};
refresh();
setInterval(refresh, 1000);
"""


async def page(request: Request) -> Response:
    state = sandbox_state(request)
    esc = html.escape
    ext_options = "".join(
        f'<option value="{esc(e.number)}">{esc(e.number)} — {esc(e.name)}</option>'
        for e in state.extensions.values()
    )
    user_rows = "".join(
        f"<tr><td>{esc(e.number)}</td><td>{esc(e.name)}{' (admin)' if e.is_admin else ''}</td>"
        f"<td>{esc(e.email)}</td><td>{esc(e.direct_number)}</td><td>{esc(e.password)}</td>"
        f'<td><details><summary>JWT</summary><code class="jwt">{esc(e.jwt)}</code>'
        f"</details></td></tr>"
        for e in state.extensions.values()
    )
    scenarios = ["interactive", "inbound_answered", "inbound_missed", "inbound_voicemail",
                 "multi_device", "hold_resume", "concurrent", "internal", "outbound",
                 *callcontrol.SCENARIOS]
    scenario_options = "".join(f'<option value="{s}">{s}</option>' for s in scenarios)
    outcome_rows = "".join(f"<li><code>{esc(n)}</code>: {esc(o)}</li>"
                           for n, o in config.RINGOUT_OUTCOME_NUMBERS.items())
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RingCentral sandbox console</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:system-ui,sans-serif;margin:1.5em;color:#222}}
table{{border-collapse:collapse;margin:.5em 0}} td,th{{border:1px solid #ccc;padding:.3em .5em;
text-align:left;font-size:.9em}} code.jwt{{word-break:break-all;font-size:.7em}}
form{{display:flex;flex-wrap:wrap;gap:.5em;align-items:end}} label{{display:flex;
flex-direction:column;font-size:.85em}} #message{{color:#b00020;min-height:1.2em}}
button{{margin-right:.3em}}
</style></head><body>
<h1>RingCentral sandbox</h1>
<p>Account {esc(state.account_id)}, main number {esc(state.main_number)}.
Client id <code>{esc(config.CLIENT_ID)}</code>.</p>
<h2>Make a phone ring</h2>
<form id="ring">
  <label>Extension <select name="extension" id="extension">{ext_options}</select></label>
  <label>From number <input name="from" id="from" value="+16504445567"></label>
  <label>Caller name <input name="name" id="name" placeholder="optional"></label>
  <label>To number (outbound) <input name="to" id="to" placeholder="+14155550100"></label>
  <label>Scenario <select name="scenario" id="scenario">{scenario_options}</select></label>
  <label>Ring s <input name="ring_seconds" type="number" min="0" step="any" size="4"></label>
  <label>Talk s <input name="talk_seconds" type="number" min="0" step="any" size="4"></label>
  <button type="submit" id="ring-button">Ring</button>
</form>
<h2>Text an extension</h2>
<form id="text">
  <label>Extension <select name="extension" id="text-extension">{ext_options}</select></label>
  <label>From number <input name="from" id="text-from" value="+16504445567"></label>
  <label>Sender name <input name="name" id="text-name" placeholder="optional"></label>
  <label>Text <input name="text" id="text-body" size="40" required maxlength="1000"></label>
  <button type="submit" id="text-button">Send SMS</button>
</form>
<p><label>Colleague for transfer, forward and pickup <input id="target" value="103"
size="5"></label></p>
<p id="message" role="status"></p>
<h2>Calls</h2>
<table id="calls"><thead><tr><th>Session</th><th>Scenario</th><th>Extension</th>
<th>Other party</th><th>Status</th><th>State</th><th>Control</th><th>Phones (Call Control)</th>
</tr></thead>
<tbody></tbody></table>
<p>The <em>interactive</em> scenario rings until you answer (up to 60 s), then stays
connected until you hang up. Other scenarios play by themselves (any control button takes a
call out of its script). For <em>internal</em>, "From" is the calling extension (e.g. 104);
for <em>outbound</em>, the agent dials "To"; for <em>blind_transfer</em>, <em>warm_transfer</em>,
<em>park_pickup</em> and <em>forward</em>, "To" is the colleague (103 by default). The
<em>call_queue</em> rings 102, 103 and 104 and the first answers. Each agent's phone offers
the Call Control buttons of its party's status (answer, reject, forward while ringing; hold,
transfer, park, record, hang up while connected; pick up a parked call as the colleague).</p>
<p>A caller leaves a voicemail when a call goes unanswered to voicemail: the
<em>inbound_voicemail</em> scenario, <em>reject</em> on a ringing phone, or a forward or
transfer to a voicemail box. The transcription completes a few seconds later.</p>
<h2>Messages</h2>
<table id="messages"><thead><tr><th>Owner</th><th>Type</th><th>Direction</th><th>From</th>
<th>Subject</th><th>State</th><th>Availability</th></tr></thead><tbody></tbody></table>
<h2>Users</h2>
<table><thead><tr><th>Ext</th><th>Name</th><th>Email</th><th>Direct number</th>
<th>Password</th><th>JWT</th></tr></thead><tbody>{user_rows}</tbody></table>
<p>RingOut callee outcomes by number dialled:</p><ul>{outcome_rows}</ul>
<p>JSON: <a href="/sandbox/users">users</a>, <a href="/sandbox/calls">calls</a>,
<a href="/sandbox/subscriptions">subscriptions</a>,
<a href="/sandbox/deliveries">deliveries</a>, <a href="/sandbox/stats">stats</a>,
<a href="/sandbox/config">config</a>, <a href="/sandbox/tokens">tokens</a>,
<a href="/sandbox/message-store">message store</a>.</p>
<script type="module">{_SCRIPT}</script>
</body></html>"""
    return HTMLResponse(body)


async def root(request: Request) -> Response:
    return RedirectResponse("/sandbox/", status_code=302)


async def favicon(request: Request) -> Response:
    return Response(status_code=204)


ROUTES = [Route("/sandbox/", page, methods=["GET"]), Route("/", root, methods=["GET"]),
          Route("/favicon.ico", favicon, methods=["GET"])]
