"""An agent's RingOut "from" choices are their own numbers, never the company's."""

from crm_cti.accounts.models import Agent


def test_direct_numbers_leave_out_company_numbers():
    agent = Agent(
        phone_numbers=[
            {"phone_number": "+16505550102", "usage_type": "DirectNumber",
             "features": ["SmsSender", "CallerId"]},
            {"phone_number": "+16505550100", "usage_type": "MainCompanyNumber",
             "features": ["CallerId"]},
            {"phone_number": "+16505550177", "usage_type": "CompanyFaxNumber", "features": []},
            {"phone_number": "+16505550188", "usage_type": "BusinessMobileNumber",
             "features": ["CallerId"]},
        ]
    )
    assert agent.direct_numbers == ["+16505550102", "+16505550188"]
    assert agent.sms_numbers == ["+16505550102"]
