"""Subscription creation handshake: the view echoes Validation-Token and stores nothing."""

from crm_cti.telephony.models import TelephonyEvent


def test_validation_token_is_echoed(client, db):
    response = client.post(
        "/webhooks/ringcentral/", b"", content_type="application/json",
        HTTP_VALIDATION_TOKEN="abc-123",
    )
    assert response.status_code == 200
    assert response["Validation-Token"] == "abc-123"
    assert TelephonyEvent.objects.count() == 0


def test_get_is_not_allowed(client, db):
    assert client.get("/webhooks/ringcentral/").status_code == 405
