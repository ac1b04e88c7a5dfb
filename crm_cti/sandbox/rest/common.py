"""Path resolution (``~``, ids) and permission checks shared by the REST modules."""

from __future__ import annotations

from crm_cti.sandbox.api import Ctx
from crm_cti.sandbox.errors import not_found, permission_required
from crm_cti.sandbox.seed import Extension

ACCOUNT = "/restapi/v1.0/account/{accountId}"
EXTENSION = ACCOUNT + "/extension/{extensionId}"


def account_check(ctx: Ctx) -> str:
    account_id = ctx.request.path_params.get("accountId", "~")
    if account_id not in ("~", ctx.state.account_id):
        raise not_found("accountId", account_id)
    return ctx.state.account_id


def account_admin(ctx: Ctx, permission: str) -> str:
    """Account-level data needs an admin (the platform's company permissions)."""
    account_id = account_check(ctx)
    assert ctx.user is not None
    if not ctx.user.is_admin:
        raise permission_required(permission)
    return account_id


def extension_target(ctx: Ctx, permission: str | None = None, *,
                     queues: bool = False) -> Extension:
    """The extension in the path. Another user's data needs ``permission`` (admins have it).
    ``queues``: a call queue may be the target too (its extension info, its message store)."""
    account_check(ctx)
    assert ctx.user is not None
    raw = ctx.request.path_params.get("extensionId", "~")
    if raw == "~":
        return ctx.user
    ext = ctx.state.extensions.get(raw)
    if ext is None:
        # A call queue is an extension too: anyone reads its info, only an admin its data
        # (``permission``: as on the platform, a queue's voicemail needs an admin).
        ext = ctx.state.call_queues.get(raw) if queues else None
        if ext is None:
            raise not_found("extensionId", raw)
        if permission and not ctx.user.is_admin:
            raise permission_required(permission)
    if permission and ext.id != ctx.user.id and not ctx.user.is_admin:
        raise permission_required(permission)
    return ext


def account_uri(ctx: Ctx) -> str:
    return ctx.url(f"/restapi/v1.0/account/{ctx.state.account_id}")


def extension_uri(ctx: Ctx, ext: Extension) -> str:
    return account_uri(ctx) + f"/extension/{ext.id}"


def single_page(uri: str, records: list) -> dict:
    """A list response that fits one page (``records``, ``paging``, ``navigation``)."""
    return {
        "uri": uri,
        "records": records,
        "paging": {"page": 1, "perPage": 100, "pageStart": 0, "pageEnd": len(records) - 1,
                   "totalPages": 1, "totalElements": len(records)},
        "navigation": {"firstPage": {"uri": uri}, "lastPage": {"uri": uri}},
    }


def per_page_param(ctx: Ctx, *, default: int = 100, maximum: int = 1000) -> int:
    """``perPage`` as the spec's PerPageWithMax says: 1 to 1000, the string ``max`` for 1000,
    and a larger integer clamped to 1000 rather than refused."""
    from crm_cti.sandbox.errors import invalid_parameter

    raw = ctx.request.query_params.get("perPage")
    if raw is None or raw == "":
        return default
    if raw == "max":
        return maximum
    if not (raw.isascii() and raw.lstrip("-").isdigit()):
        raise invalid_parameter("perPage", raw)
    # A number of any length (int() refuses over 4300 digits) is only compared with 1.
    value = int(raw) if len(raw) <= 12 else (-1 if raw.startswith("-") else maximum)
    if value < 1:
        raise invalid_parameter(
            "perPage", raw, "Parameter [perPage] value must be a positive integer or 'max'"
        )
    return min(value, maximum)


def int_param(ctx: Ctx, name: str, default: int, low: int, high: int) -> int:
    from crm_cti.sandbox.errors import invalid_parameter

    raw = ctx.request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_parameter(name, raw) from None
    if not low <= value <= high:
        raise invalid_parameter(
            name, raw, f"Parameter [{name}] value is out of range [{low}, {high}]"
        )
    return value
