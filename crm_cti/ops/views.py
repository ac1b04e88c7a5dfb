from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from crm_cti.ops.health import run_checks


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    results = run_checks()
    failed = sorted(name for name, result in results.items() if not result.ok)
    body = {
        "status": "ok" if not failed else "fail",
        "mode": settings.RUN_MODE,
        "checks": {
            name: {"ok": result.ok, "detail": result.detail} for name, result in results.items()
        },
        "failed": failed,
    }
    return JsonResponse(body, status=200 if not failed else 503)
