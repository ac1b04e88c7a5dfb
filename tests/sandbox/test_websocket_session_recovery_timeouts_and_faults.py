"""WebSocket sessions: recovery with ``wsc`` replays exactly what was missed within the window
(``Successful``), and fails after it, past the 100-message buffer or when refused; idle and
absolute timeouts close with WSG-902/WSG-903; the drop and delay faults."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.sandbox.wsclient import Gateway, gateway_open
from tests.support.sandbox import SandboxProcess


def _ring(sandbox: SandboxProcess, count: int) -> None:
    for index in range(count):
        assert sandbox.notify("102", {"telephonyStatus": "Ringing", "n": index}) == {"queued": 1}


def _sessions(sandbox: SandboxProcess) -> list[dict]:
    return sandbox.http.get("/sandbox/ws/sessions").json()


async def _dropped(sandbox: SandboxProcess, gateway: Gateway) -> None:
    assert sandbox.http.post("/sandbox/ws/drop", json={"extension": "102"}).json() == {
        "dropped": 1}
    with pytest.raises(ConnectionClosed):
        await gateway.recv()
    sandbox.wait_for(lambda: not any(s["connected"] for s in _sessions(sandbox)))


async def _subscribed_then_dropped(sandbox: SandboxProcess, agent: httpx.Client) -> Gateway:
    gateway = await gateway_open(agent)
    await gateway.subscribe()
    await _dropped(sandbox, gateway)
    return gateway


async def test_recovery_within_the_window_replays_exactly_what_was_missed(
    fresh_sandbox: SandboxProcess, agent: httpx.Client,
) -> None:
    gateway = await gateway_open(agent)
    sub = await gateway.subscribe()
    _ring(fresh_sandbox, 1)
    before = (await gateway.notifications(1))[0]
    await _dropped(fresh_sandbox, gateway)
    _ring(fresh_sandbox, 3)
    fresh_sandbox.wait_for(lambda: _sessions(fresh_sandbox)[0]["missed"] == 3)
    again = await gateway_open(agent, wsc=gateway.wsc)
    header, details = again.details
    assert details["recoveryState"] == "Successful"
    assert header["wsc"]["token"] == gateway.wsc
    replayed = await again.notifications(3)
    assert [n[1]["body"]["n"] for n in replayed] == [0, 1, 2]
    assert all(n[1]["subscriptionId"] == sub["id"] for n in replayed)
    sequence = before[0]["wsc"]["sequence"]
    # Missed while away (3 of them), then the new ConnectionDetails.
    assert [n[0]["wsc"]["sequence"] for n in replayed] == [sequence + 1, sequence + 2,
                                                           sequence + 3]
    assert header["wsc"]["sequence"] == sequence + 4
    # The subscription carries on, on the recovered session.
    _ring(fresh_sandbox, 1)
    assert (await again.notifications(1))[0][0]["wsc"]["sequence"] == sequence + 5
    await again.close()


async def _failed_recovery(sandbox: SandboxProcess, agent: httpx.Client,
                           gateway: Gateway) -> Gateway:
    again = await gateway_open(agent, wsc=gateway.wsc)
    header, details = again.details
    assert details["recoveryState"] == "Failed"
    assert header["wsc"]["token"] != gateway.wsc and header["wsc"]["sequence"] == 1
    # The old session's subscription is gone: nothing is queued until a new subscription.
    assert sandbox.notify("102", {"telephonyStatus": "Ringing"}) == {"queued": 0}
    await again.subscribe()
    _ring(sandbox, 1)
    note = (await again.notifications(1))[0]
    assert note[0]["wsc"]["token"] == again.wsc
    return again


async def test_recovery_after_the_window_fails(fresh_sandbox: SandboxProcess,
                                               agent: httpx.Client) -> None:
    fresh_sandbox.config(ws_recovery_timeout=0.5)
    gateway = await gateway_open(agent)
    assert gateway.details[1]["recoveryTimeout"] == 0.5
    await gateway.subscribe()
    await _dropped(fresh_sandbox, gateway)
    _ring(fresh_sandbox, 1)
    # The session is forgotten once the window has passed.
    fresh_sandbox.wait_for(lambda: _sessions(fresh_sandbox) == [])
    again = await _failed_recovery(fresh_sandbox, agent, gateway)
    await again.close()


async def test_recovery_after_more_than_the_buffer_fails(fresh_sandbox: SandboxProcess,
                                                         agent: httpx.Client) -> None:
    gateway = await _subscribed_then_dropped(fresh_sandbox, agent)
    _ring(fresh_sandbox, 101)
    fresh_sandbox.wait_for(lambda: _sessions(fresh_sandbox)[0]["missedTotal"] == 101)
    again = await _failed_recovery(fresh_sandbox, agent, gateway)
    await again.close()


async def test_a_full_buffer_still_recovers(fresh_sandbox: SandboxProcess,
                                            agent: httpx.Client) -> None:
    gateway = await _subscribed_then_dropped(fresh_sandbox, agent)
    _ring(fresh_sandbox, 100)
    fresh_sandbox.wait_for(lambda: _sessions(fresh_sandbox)[0]["missed"] == 100)
    again = await gateway_open(agent, wsc=gateway.wsc)
    assert again.details[1]["recoveryState"] == "Successful"
    assert [n[1]["body"]["n"] for n in await again.notifications(100)] == list(range(100))
    await again.close()


async def test_refused_recovery_fails(fresh_sandbox: SandboxProcess,
                                      agent: httpx.Client) -> None:
    gateway = await _subscribed_then_dropped(fresh_sandbox, agent)
    fresh_sandbox.config(ws_refuse_recovery=True)
    again = await _failed_recovery(fresh_sandbox, agent, gateway)
    await again.close()


async def test_another_users_wsc_does_not_recover(fresh_sandbox: SandboxProcess,
                                                  agent: httpx.Client) -> None:
    gateway = await _subscribed_then_dropped(fresh_sandbox, agent)
    with fresh_sandbox.api("103") as other:
        stranger = await gateway_open(other, wsc=gateway.wsc)
    assert stranger.details[1]["recoveryState"] == "Failed"
    await stranger.close()
    # The owner still can.
    again = await gateway_open(agent, wsc=gateway.wsc)
    assert again.details[1]["recoveryState"] == "Successful"
    await again.close()


async def test_a_reconnect_takes_over_a_connection_the_server_still_holds(
    fresh_sandbox: SandboxProcess, agent: httpx.Client,
) -> None:
    gateway = await gateway_open(agent)
    sub = await gateway.subscribe()
    again = await gateway_open(agent, wsc=gateway.wsc)
    assert again.details[1]["recoveryState"] == "Successful"
    with pytest.raises(ConnectionClosed):
        await gateway.recv()
    _ring(fresh_sandbox, 1)
    assert (await again.notifications(1))[0][1]["subscriptionId"] == sub["id"]
    await again.close()
    # The stats count every connection accepted, per user: two for 102.
    owner = agent.get("/restapi/v1.0/account/~/extension/~").json()["id"]
    assert fresh_sandbox.stats()["ws_connections"] == {str(owner): 2}


async def _closed_with(gateway: Gateway, code: str) -> None:
    error = await gateway.next("Error", timeout=20)
    assert error[1]["errorCode"] == code
    with pytest.raises(ConnectionClosed) as closed:
        await gateway.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.reason.startswith(code)


async def test_idle_connection_closes_with_wsg_902(fresh_sandbox: SandboxProcess,
                                                   agent: httpx.Client) -> None:
    fresh_sandbox.config(ws_idle_timeout=0.5)
    gateway = await gateway_open(agent)
    assert gateway.details[1]["idleTimeout"] == 0.5
    await _closed_with(gateway, "WSG-902")
    # The session outlives its connection: it recovers.
    again = await gateway_open(agent, wsc=gateway.wsc)
    assert again.details[1]["recoveryState"] == "Successful"
    await again.close()


async def test_absolute_timeout_closes_a_busy_connection_with_wsg_903(
    fresh_sandbox: SandboxProcess, agent: httpx.Client,
) -> None:
    fresh_sandbox.config(ws_absolute_timeout=1.5)
    gateway = await gateway_open(agent)

    async def beat() -> None:
        while True:
            await gateway.send({"type": "Heartbeat"})
            await asyncio.sleep(0.2)

    beating = asyncio.create_task(beat())
    try:
        await _closed_with(gateway, "WSG-903")
    finally:
        beating.cancel()
    assert {m[0]["type"] for m in gateway.seen} >= {"Heartbeat", "Error"}


async def test_a_delayed_notification_missed_by_a_drop_is_replayed(
    fresh_sandbox: SandboxProcess, agent: httpx.Client,
) -> None:
    fresh_sandbox.config(ws_message_delay=1.0)
    gateway = await gateway_open(agent)
    await gateway.subscribe()
    _ring(fresh_sandbox, 1)
    # Dropped while the notification waits out its delay: it was never sent on this socket.
    await _dropped(fresh_sandbox, gateway)
    assert not [m for m in gateway.seen if m[0]["type"] == "ServerNotification"]
    fresh_sandbox.wait_for(lambda: _sessions(fresh_sandbox)[0]["missed"] == 1)
    fresh_sandbox.config(ws_message_delay=0)
    again = await gateway_open(agent, wsc=gateway.wsc)
    assert again.details[1]["recoveryState"] == "Successful"
    assert (await again.notifications(1))[0][1]["body"]["n"] == 0
    await again.close()


def test_gateway_knobs_are_checked(fresh_sandbox: SandboxProcess) -> None:
    for change in ({"ws_idle_timeout": 0}, {"ws_absolute_timeout": "soon"},
                   {"ws_refuse_recovery": "yes"}, {"ws_message_delay": -1}):
        assert fresh_sandbox.http.post("/sandbox/config", json=change).status_code == 400
    assert fresh_sandbox.http.post("/sandbox/ws/drop", json={"extension": "999"}
                                   ).status_code == 400
    assert fresh_sandbox.http.post("/sandbox/ws/drop").json() == {"dropped": 0}


async def test_reset_closes_connections_and_forgets_sessions(fresh_sandbox: SandboxProcess,
                                                             agent: httpx.Client) -> None:
    gateway = await gateway_open(agent)
    await gateway.subscribe()
    fresh_sandbox.reset()
    with pytest.raises(ConnectionClosed):
        await gateway.recv()
    assert _sessions(fresh_sandbox) == []
    with fresh_sandbox.api("102") as fresh_agent:
        again = await gateway_open(fresh_agent, wsc=gateway.wsc)
    assert again.details[1]["recoveryState"] == "Failed"
    await again.close()
