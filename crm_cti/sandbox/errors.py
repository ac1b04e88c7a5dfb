"""Error bodies as the real platform sends them."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse


class ApiError(Exception):
    """Raised by a handler; rendered as a RingCentral REST error body."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        *,
        top_code: str | None = None,
        headers: dict[str, str] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.top_code = top_code or error_code
        self.headers = headers or {}
        self.details = details

    def body(self) -> dict[str, Any]:
        item = {"errorCode": self.error_code, "message": self.message, **self.details}
        body = {"errorCode": self.top_code, "message": self.message, "errors": [item]}
        if "permissionName" in self.details:
            body["permissionName"] = self.details["permissionName"]
        return body

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


class OAuthError(Exception):
    """An OAuth endpoint error: ``error``, ``error_description`` and ``errors[]``."""

    def __init__(self, error: str, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.code = code
        self.description = description
        self.status = status

    def response(self) -> JSONResponse:
        return JSONResponse(
            {
                "error": self.error,
                "error_description": self.description,
                "errors": [{"errorCode": self.code, "message": self.description}],
            },
            status_code=self.status,
        )


def invalid_parameter(name: str, value: Any, message: str | None = None) -> ApiError:
    text = message or f"Parameter [{name}] value is invalid"
    return ApiError(
        400, "CMN-101", text, top_code="InvalidParameter",
        parameterName=name, parameterValue="" if value is None else str(value),
    )


def missing_parameter(name: str) -> ApiError:
    return ApiError(
        400, "CMN-100", f"Mandatory parameter [{name}] not specified",
        top_code="InvalidParameter", parameterName=name,
    )


def not_found(name: str, value: Any) -> ApiError:
    return ApiError(
        404, "CMN-102", f"Resource for parameter [{name}] is not found",
        top_code="NotFound", parameterName=name, parameterValue=str(value),
    )


def permission_required(permission: str) -> ApiError:
    return ApiError(
        403, "CMN-408", f"[{permission}] permission required",
        top_code="InsufficientPermissions", permissionName=permission,
    )


def rate_exceeded(retry_after: int, headers: dict[str, str]) -> ApiError:
    return ApiError(
        429, "CMN-301", "Request rate exceeded", top_code="CMN-301",
        headers={**headers, "Retry-After": str(retry_after)},
    )


def token_error(kind: str) -> ApiError:
    """401 for a bad access token: ``kind`` is expired, revoked, unknown or missing."""
    # The platform answers TokenInvalid/OAU-213 for all three; the message tells them apart.
    if kind == "expired":
        return ApiError(401, "OAU-213", "Access token expired", top_code="TokenInvalid")
    if kind == "revoked":
        return ApiError(401, "OAU-213", "Token is revoked", top_code="TokenInvalid")
    if kind == "missing":
        return ApiError(
            401, "OAU-149", "Authorization header is not specified", top_code="TokenInvalid"
        )
    return ApiError(401, "OAU-213", "Token not found", top_code="TokenInvalid")
