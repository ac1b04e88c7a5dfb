"""Devices: each extension's desk phone and softphone (what Call Control answers on)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from crm_cti.sandbox import sessions
from crm_cti.sandbox.api import Ctx, operation
from crm_cti.sandbox.rest.common import EXTENSION, extension_target, extension_uri, single_page


@operation("GET", EXTENSION + "/device")
async def device_list(ctx: Ctx) -> Response:
    ext = extension_target(ctx, "ReadCompanyDevices")
    base = extension_uri(ctx, ext)
    records = [
        {"id": device["id"], "uri": ctx.url(f"/restapi/v1.0/account/{ctx.state.account_id}"
                                            f"/device/{device['id']}"),
         "sku": device["sku"], "type": device["type"], "name": device["name"],
         "status": "Online", "model": {"name": device["model"]},
         "extension": {"id": int(ext.id), "uri": base, "extensionNumber": ext.number}}
        for device in sessions.devices_of(ext)
    ]
    return JSONResponse(single_page(base + "/device?page=1&perPage=100", records))


ROUTES = [device_list]
