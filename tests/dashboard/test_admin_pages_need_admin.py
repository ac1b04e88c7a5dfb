"""The Django admin lists agents, contacts, imports, calls, events and subscriptions for
admins; agents who are not staff are sent to the admin's login page."""

import pytest

from tests.support.people import call_make, contact_make

CHANGELISTS = [
    "/admin/accounts/agent/",
    "/admin/crm/contact/",
    "/admin/crm/contactimport/",
    "/admin/telephony/call/",
    "/admin/telephony/telephonyevent/",
    "/admin/telephony/subscription/",
]


@pytest.mark.parametrize("url", CHANGELISTS)
def test_admin_sees_the_list(admin_client, agent, url):
    contact_make("Phillip", "Marco", "+16504445567")
    call_make(agent)
    assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize("url", CHANGELISTS)
def test_agent_is_sent_to_the_login_page(agent_client, url):
    response = agent_client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_contact_admin_normalizes_numbers(admin_client, db):
    response = admin_client.post(
        "/admin/crm/contact/add/",
        {
            "first_name": "Grace", "last_name": "Lin", "company": "", "title": "",
            "email": "", "notes": "",
            "phones-TOTAL_FORMS": "1", "phones-INITIAL_FORMS": "0",
            "phones-MIN_NUM_FORMS": "0", "phones-MAX_NUM_FORMS": "1000",
            "phones-0-label": "work", "phones-0-raw": "(650) 555-0110",
        },
    )
    assert response.status_code == 302
    from crm_cti.crm.models import ContactPhone

    assert ContactPhone.objects.get().e164 == "+16505550110"
