"""Account, extension, phone numbers and presence."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from crm_cti.sandbox.api import Ctx, operation
from crm_cti.sandbox.errors import invalid_parameter
from crm_cti.sandbox.rest.common import (
    ACCOUNT,
    EXTENSION,
    account_admin,
    account_check,
    account_uri,
    extension_target,
    extension_uri,
    single_page,
)
from crm_cti.sandbox.seed import Extension
from crm_cti.sandbox.state import iso

_REGIONAL = {
    "homeCountry": {"id": "1", "name": "United States", "isoCode": "US", "callingCode": "1"},
    "timezone": {"id": "58", "name": "US/Pacific",
                 "description": "Pacific Time (US & Canada)", "bias": "-480"},
    "language": {"id": "1033", "localeCode": "en-US", "name": "English (United States)"},
    "greetingLanguage": {"id": "1033", "localeCode": "en-US", "name": "English (United States)"},
    "formattingLocale": {"id": "1033", "localeCode": "en-US", "name": "English (United States)"},
    "timeFormat": "12h",
}


def _regional(ctx: Ctx) -> dict[str, Any]:
    country = {**_REGIONAL["homeCountry"], "uri": ctx.url("/restapi/v1.0/dictionary/country/1")}
    timezone = {**_REGIONAL["timezone"], "uri": ctx.url("/restapi/v1.0/dictionary/timezone/58")}
    return {**_REGIONAL, "homeCountry": country, "timezone": timezone}


def extension_body(ctx: Ctx, ext: Extension) -> dict[str, Any]:
    regional = _regional(ctx)
    return {
        "id": int(ext.id),
        "uri": extension_uri(ctx, ext),
        "account": {"id": ext.account_id,
                    "uri": ctx.url(f"/restapi/v1.0/account/{ext.account_id}")},
        "contact": {
            "firstName": ext.first_name,
            "lastName": ext.last_name,
            "company": "Sandbox Demo Inc.",
            "email": ext.email,
            "businessPhone": ext.direct_number,
            "emailAsLoginName": True,
            "pronouncedName": {"type": "Default"},
        },
        "extensionNumber": ext.number,
        "name": ext.name,
        "permissions": {
            "admin": {"enabled": ext.is_admin},
            "internationalCalling": {"enabled": False},
        },
        "profileImage": {"uri": extension_uri(ctx, ext) + "/profile-image"},
        "regionalSettings": regional,
        "serviceFeatures": [
            {"featureName": name, "enabled": True}
            for name in ("Presence", "RingOut", "SMS", "SMSReceiving", "Pager",
                         "PagerReceiving", "Voicemail", "VoipCalling", "CallerIdControl",
                         "OnDemandCallRecording")
        ],
        "setupWizardState": "Completed",
        "status": "Enabled",
        "type": ext.kind,
        "hidden": False,
        "creationTime": iso(ctx.state.started - 86400 * 400),
    }


def phone_number_records(ctx: Ctx, ext: Extension) -> list[dict[str, Any]]:
    country = {"id": "1", "uri": ctx.url("/restapi/v1.0/dictionary/country/1"),
               "name": "United States"}
    return [
        {
            "uri": extension_uri(ctx, ext) + f"/phone-number/{ext.id}1",
            "id": int(ext.id + "1"),
            "country": country,
            "extension": {"id": int(ext.id), "uri": extension_uri(ctx, ext),
                          "extensionNumber": ext.number, "type": "User", "name": ext.name},
            "location": "San Mateo, CA",
            "paymentType": "Local",
            "phoneNumber": ext.direct_number,
            "primary": True,
            "status": "Normal",
            "type": "VoiceFax",
            "usageType": "DirectNumber",
            "features": ["SmsSender", "CallerId", "MmsSender"],
        },
        {
            "uri": extension_uri(ctx, ext) + f"/phone-number/{ctx.state.account_id}0",
            "id": int(ctx.state.account_id + "0"),
            "country": country,
            "location": "San Mateo, CA",
            "paymentType": "Local",
            "phoneNumber": ctx.state.main_number,
            "primary": False,
            "status": "Normal",
            "type": "VoiceFax",
            "usageType": "MainCompanyNumber",
            "features": ["CallerId"],
        },
    ]


@operation("GET", ACCOUNT)
async def account_read(ctx: Ctx) -> Response:
    account_check(ctx)
    state = ctx.state
    operator = state.extensions[f"{state.account_id[:6]}101"]
    return JSONResponse({
        "id": int(state.account_id),
        "uri": account_uri(ctx),
        "mainNumber": state.main_number,
        "operator": {"uri": extension_uri(ctx, operator), "id": int(operator.id),
                     "extensionNumber": operator.number},
        "serviceInfo": {
            "uri": account_uri(ctx) + "/service-info",
            "brand": {"id": "1210", "name": "RingCentral"},
            "servicePlan": {"id": "9000", "name": "RingCentral MVP Standard",
                            "edition": "Standard"},
            "billingPlan": {"id": "1", "name": "Monthly", "durationUnit": "Month",
                            "duration": 1, "type": "Regular"},
        },
        "setupWizardState": "Completed",
        "status": "Confirmed",
        "regionalSettings": {**_regional(ctx), "currency": {"id": 1, "code": "USD",
                                                       "name": "US Dollar", "symbol": "$"}},
        "federated": False,
        "limits": {"maxExtensionNumberLength": 5, "shortExtensionNumberLength": 3},
    })


# The extension types the platform knows (AllExtensionTypesEnum): a filter may name any.
EXTENSION_TYPES = (
    "User", "Department", "Announcement", "Voicemail", "DigitalUser", "VirtualUser",
    "FaxUser", "PagingOnly", "SharedLinesGroup", "DelegatedLinesGroup", "GroupCallPickup",
    "IvrMenu", "ApplicationExtension", "ProxyAdmin", "RoomConnector", "ParkLocation",
    "Limited", "Bot", "Site", "Room", "FlexibleUser", "TieLine", "Unknown",
)


def _listed(ctx: Ctx, ext: Extension) -> dict[str, Any]:
    """An extension as the account's list shows it (users and call queues alike)."""
    record: dict[str, Any] = {
        "id": int(ext.id), "uri": extension_uri(ctx, ext), "extensionNumber": ext.number,
        "name": ext.name, "type": ext.kind, "status": "Enabled",
        "contact": {"email": ext.email, "businessPhone": ext.direct_number},
        "creationTime": iso(ctx.state.started - 86400 * 400),
    }
    if ext.kind == "User":
        record["contact"].update(firstName=ext.first_name, lastName=ext.last_name)
        record["permissions"] = {"admin": {"enabled": ext.is_admin},
                                 "internationalCalling": {"enabled": False}}
        record["hidden"] = False
    else:
        record["contact"]["firstName"] = ext.name
    return record


@operation("GET", ACCOUNT + "/extension")
async def extension_list(ctx: Ctx) -> Response:
    """The account's extensions (``type``: User, Department for call queues, ...;
    ``extensionNumber``), one page: the seeded account is small."""
    account_check(ctx)
    params = ctx.request.query_params
    types = [item for raw in params.getlist("type") for item in raw.split(",") if item]
    for item in types:
        if item not in EXTENSION_TYPES:
            raise invalid_parameter("type", item)
    number = params.get("extensionNumber")
    found = [*ctx.state.extensions.values(), *ctx.state.call_queues.values()]
    found = [ext for ext in found if (not types or ext.kind in types)
             and (not number or ext.number == number)]
    uri = account_uri(ctx) + "/extension?page=1&perPage=100"
    return JSONResponse(single_page(uri, [_listed(ctx, ext) for ext in found]))


@operation("GET", EXTENSION)
async def extension_read(ctx: Ctx) -> Response:
    ext = extension_target(ctx, queues=True)
    return JSONResponse(extension_body(ctx, ext))


@operation("GET", EXTENSION + "/phone-number")
async def phone_number_list(ctx: Ctx) -> Response:
    ext = extension_target(ctx, "ReadExtensions")
    records = phone_number_records(ctx, ext)
    uri = extension_uri(ctx, ext) + "/phone-number?page=1&perPage=100"
    return JSONResponse(single_page(uri, records))


def presence_body(ctx: Ctx, ext: Extension, detailed: bool) -> dict[str, Any]:
    from crm_cti.sandbox.telephony import presence_snapshot

    snapshot = presence_snapshot(ctx.state, ext, detailed=detailed)
    snapshot["uri"] = extension_uri(ctx, ext) + "/presence"
    snapshot["extension"] = {"id": int(ext.id), "uri": extension_uri(ctx, ext),
                             "extensionNumber": ext.number}
    snapshot.pop("extensionId", None)
    return snapshot


@operation("GET", EXTENSION + "/presence")
async def presence_read(ctx: Ctx) -> Response:
    ext = extension_target(ctx)
    detailed = ctx.request.query_params.get("detailedTelephonyState", "").lower() == "true"
    return JSONResponse(presence_body(ctx, ext, detailed))


@operation("GET", ACCOUNT + "/presence")
async def account_presence_read(ctx: Ctx) -> Response:
    account_admin(ctx, "ReadCompanyPresence")
    detailed = ctx.request.query_params.get("detailedTelephonyState", "").lower() == "true"
    records = [presence_body(ctx, ext, detailed) for ext in ctx.state.extensions.values()]
    uri = account_uri(ctx) + "/presence?page=1&perPage=100"
    return JSONResponse(single_page(uri, records))


ROUTES = [account_read, extension_list, extension_read, phone_number_list, presence_read,
          account_presence_read]
