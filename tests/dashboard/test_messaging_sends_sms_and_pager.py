"""SMS and pager messages go out through RingCentral (the sandbox); errors come back per form."""

import pytest
import requests

from crm_cti.accounts.models import Agent
from tests.accounts.signin_helpers import sign_in

pytestmark = pytest.mark.django_db


def _signed_in_agent(client, username="102") -> Agent:
    response = sign_in(client, username=username)
    assert response.status_code == 302, response.content[:300]
    return Agent.objects.get(extension_number=username)


def test_sms_is_sent_from_the_agents_number(client, rc):
    agent = _signed_in_agent(client)
    sms_from = agent.sms_numbers[0]
    response = client.post(
        "/calls/sms/",
        {"from_number": sms_from, "to": "(650) 444-5567", "text": "Your order shipped"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["ok"] is True
    sent = requests.get(f"{rc.url}/sandbox/messages", timeout=5).json()
    texts = [m for m in sent if "Your order shipped" in str(m)]
    assert texts and "+16504445567" in str(texts[-1])


def test_sms_bad_number_is_reported_next_to_the_field(client, rc):
    agent = _signed_in_agent(client)
    response = client.post(
        "/calls/sms/",
        {"from_number": agent.sms_numbers[0], "to": "12", "text": "hi"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200 and response.json()["ok"] is False
    assert "to" in response.json()["errors"]


def test_sms_from_a_number_that_is_not_the_agents_is_refused(client, rc):
    _signed_in_agent(client)
    response = client.post(
        "/calls/sms/",
        {"from_number": "+16505550105", "to": "+16504445567", "text": "hi"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200 and response.json()["ok"] is False
    assert "from_number" in response.json()["errors"]


def test_pager_message_to_an_extension(client, rc):
    _signed_in_agent(client)
    response = client.post(
        "/calls/pager/", {"to": "103", "text": "Can you take line 2?"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200, response.content
    sent = requests.get(f"{rc.url}/sandbox/messages", timeout=5).json()
    assert any("Can you take line 2?" in str(m) for m in sent)


def test_platform_refusal_is_shown_with_the_platforms_words(client, rc):
    _signed_in_agent(client)
    response = client.post(
        "/calls/pager/", {"to": "999", "text": "hello?"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200 and response.json()["ok"] is False
    errors = response.json()["errors"]["__all__"]
    assert errors and errors[0]["message"]
