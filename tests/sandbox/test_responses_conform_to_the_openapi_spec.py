"""Every JSON response the sandbox returns validates against the spec's schema for that
operation and status (the spec is read from RC_OPENAPI_SPEC)."""

import httpx
import pytest

from crm_cti.sandbox import schema
from tests.sandbox.conftest import PRESENCE, subscribe
from tests.sandbox.receiver import Receiver
from tests.sandbox.spec import conforms, load_or_skip
from tests.support.sandbox import JWT_GRANT, SandboxProcess

A = "/restapi/v1.0/account/{accountId}"
E = A + "/extension/{extensionId}"


@pytest.fixture
def spec() -> dict:
    return load_or_skip()


@pytest.fixture
def ready(fresh_sandbox: SandboxProcess) -> SandboxProcess:
    fresh_sandbox.config(speed=20, call_log_lag=0, rate_limits={"enabled": False})
    return fresh_sandbox


def test_fallback_throttling_table_matches_the_spec(spec: dict) -> None:
    from_spec = schema.groups_from_spec(spec)
    for key, group in schema.FALLBACK_GROUPS.items():
        assert from_spec.get(key) == group, key


def test_oauth_token_and_errors(spec: dict, ready: SandboxProcess) -> None:
    ok = httpx.post(ready.url + "/restapi/oauth/token", auth=(ready.client_id,
                    ready.client_secret), data={"grant_type": JWT_GRANT,
                                                "assertion": ready.user("102")["jwt"]})
    conforms(ok, "POST", "/restapi/oauth/token")
    bad = httpx.post(ready.url + "/restapi/oauth/token", auth=(ready.client_id,
                     ready.client_secret), data={"grant_type": "password", "username": "102",
                                                 "password": "nope"})
    assert bad.status_code == 400
    conforms(bad, "POST", "/restapi/oauth/token")


def test_account_extension_phone_numbers_presence(spec: dict, ready: SandboxProcess,
                                                  agent: httpx.Client,
                                                  admin: httpx.Client) -> None:
    ready.start_call("interactive", extension="102")
    conforms(agent.get("/restapi/v1.0/account/~"), "GET", A)
    conforms(agent.get("/restapi/v1.0/account/~/extension/~"), "GET", E)
    conforms(agent.get("/restapi/v1.0/account/~/extension/~/phone-number"), "GET",
             E + "/phone-number")
    conforms(agent.get("/restapi/v1.0/account/~/extension/~/phone-number?x=1"), "GET",
             E + "/phone-number")
    conforms(agent.get("/restapi/v1.0/account/~/extension/~/presence",
                       params={"detailedTelephonyState": "true"}), "GET", E + "/presence")
    conforms(admin.get("/restapi/v1.0/account/~/presence"), "GET", A + "/presence")
    missing = agent.get("/restapi/v1.0/account/~/extension/1/phone-number")
    assert missing.status_code == 404
    conforms(missing, "GET", E + "/phone-number")


def test_calls_call_log_and_recordings(spec: dict, ready: SandboxProcess, agent: httpx.Client,
                                       admin: httpx.Client) -> None:
    ready.inject_call_log("102", 30, seed=11)
    live = ready.start_call("interactive", extension="102")
    ready.call_action(live["sessionId"], "answer")
    internal = ready.start_call("internal", extension="103", **{"from": "102"})
    ready.wait_for(lambda: not ready.call(internal["sessionId"])["active"])
    ready.wait_for(lambda: agent.get(E.replace("{accountId}", "~").replace(
        "{extensionId}", "~") + "/call-log", params={"sessionId": internal["sessionId"]}
    ).json()["records"])
    for client, path, template in (
        (agent, "/restapi/v1.0/account/~/extension/~/active-calls", E + "/active-calls"),
        (admin, "/restapi/v1.0/account/~/active-calls", A + "/active-calls"),
    ):
        body = conforms(client.get(path), "GET", template)
        assert body["records"]
    for view in ("Simple", "Detailed"):
        body = conforms(agent.get("/restapi/v1.0/account/~/extension/~/call-log",
                                  params={"view": view, "perPage": 10, "page": 2,
                                          "dateFrom": "2020-01-01"}),
                        "GET", E + "/call-log")
        assert body["records"]
        conforms(admin.get("/restapi/v1.0/account/~/call-log", params={"view": view}),
                 "GET", A + "/call-log")
    record = agent.get("/restapi/v1.0/account/~/extension/~/call-log",
                       params={"withRecording": "true", "dateFrom": "2020-01-01"}
                       ).json()["records"][0]
    conforms(agent.get(f"/restapi/v1.0/account/~/extension/~/call-log/{record['id']}",
                       params={"view": "Detailed"}), "GET", E + "/call-log/{callRecordId}")
    conforms(admin.get(f"/restapi/v1.0/account/~/call-log/{record['id']}"), "GET",
             A + "/call-log/{callRecordId}")
    conforms(agent.get(record["recording"]["uri"]), "GET", A + "/recording/{recordingId}")
    for response, template in (
        (agent.get("/restapi/v1.0/account/~/call-log"), A + "/call-log"),
        (agent.get("/restapi/v1.0/account/~/active-calls"), A + "/active-calls"),
        (agent.get("/restapi/v1.0/account/~/extension/~/call-log", params={"view": "x"}),
         E + "/call-log"),
        (agent.get("/restapi/v1.0/account/~/extension/~/call-log/nope"),
         E + "/call-log/{callRecordId}"),
        (agent.get("/restapi/v1.0/account/~/recording/1"), A + "/recording/{recordingId}"),
    ):
        assert response.status_code in (400, 403, 404)
        conforms(response, "GET", template)


def test_ringout_sms_pager(spec: dict, ready: SandboxProcess, agent: httpx.Client) -> None:
    created = agent.post("/restapi/v1.0/account/~/extension/~/ring-out", json={
        "from": {"phoneNumber": "+16505550102"}, "to": {"phoneNumber": "+16502008440"}})
    conforms(created, "POST", E + "/ring-out")
    conforms(agent.get(created.json()["uri"]), "GET", E + "/ring-out/{ringoutId}")
    conforms(agent.post("/restapi/v1.0/account/~/extension/~/sms", json={
        "from": {"phoneNumber": "+16505550102"}, "to": [{"phoneNumber": "+16504445567"}],
        "text": "hi"}), "POST", E + "/sms")
    conforms(agent.post("/restapi/v1.0/account/~/extension/~/company-pager", json={
        "to": [{"extensionNumber": "103"}], "text": "hi"}), "POST", E + "/company-pager")


def test_subscriptions(spec: dict, ready: SandboxProcess, agent: httpx.Client,
                       receiver: Receiver) -> None:
    sub = subscribe(agent, receiver)
    path = f"/restapi/v1.0/subscription/{sub['id']}"
    conforms(agent.get(path), "GET", "/restapi/v1.0/subscription/{subscriptionId}")
    conforms(agent.get("/restapi/v1.0/subscription"), "GET", "/restapi/v1.0/subscription")
    conforms(agent.post(path + "/renew"), "POST",
             "/restapi/v1.0/subscription/{subscriptionId}/renew")
    conforms(agent.put(path, json={"eventFilters": [PRESENCE]}), "PUT",
             "/restapi/v1.0/subscription/{subscriptionId}")
    bad = agent.post("/restapi/v1.0/subscription", json={"eventFilters": []})
    conforms(bad, "POST", "/restapi/v1.0/subscription")
    conforms(agent.get("/restapi/v1.0/subscription/nope"), "GET",
             "/restapi/v1.0/subscription/{subscriptionId}")


def test_presence_event_bodies(spec: dict, ready: SandboxProcess, agent: httpx.Client,
                               receiver: Receiver) -> None:
    subscribe(agent, receiver)
    ready.start_call("concurrent", extension="102")
    ready.wait_for(lambda: len(receiver.received) >= 8)
    _bodies_conform(spec, receiver, "DetailedExtensionPresenceEventBody")


def _bodies_conform(spec: dict, receiver: Receiver, schema_name: str) -> None:
    """Every notification body received validates against the spec's ``schema_name``."""
    import jsonschema

    from tests.sandbox.spec import FORMATS

    body_schema = {"$ref": f"#/components/schemas/{schema_name}",
                   "components": spec["components"]}
    validator = jsonschema.Draft7Validator(body_schema, format_checker=FORMATS)
    for event in receiver.bodies():
        errors = list(validator.iter_errors(event["body"]))
        assert not errors, errors[0].message


def test_call_control_responses_and_session_events(spec: dict, ready: SandboxProcess,
                                                   agent: httpx.Client,
                                                   receiver: Receiver) -> None:
    from tests.sandbox.session_helpers import SESSIONS, TELEPHONY, device_id, limited_api

    subscribe(agent, receiver, [SESSIONS])
    s = A + "/telephony/sessions/{telephonySessionId}"
    call = ready.start_call("interactive", extension="102", ring_seconds=600)
    path = f"{TELEPHONY}/sessions/{call['telephonySessionId']}"
    session = conforms(agent.get(path), "GET", s)
    party_path = f"{path}/parties/{session['parties'][0]['id']}"
    conforms(agent.get(party_path), "GET", s + "/parties/{partyId}")
    conforms(agent.post(party_path + "/answer", json={"deviceId": device_id(agent)}), "POST",
             s + "/parties/{partyId}/answer")
    conforms(agent.post(party_path + "/answer", json={}), "POST",
             s + "/parties/{partyId}/answer")
    conforms(agent.get(f"{TELEPHONY}/sessions/s-nope"), "GET", s)
    with limited_api(ready) as limited:
        conforms(limited.get(path), "GET", s)
    agent.delete(path)
    ready.wait_for(lambda: len(receiver.received) >= 4)
    _bodies_conform(spec, receiver, "TelephonySessionsEventBody")
