"""JSON views equivalent to stepwatch's GET /api/v1/alerts and GET /api/v1/alerts/{id}:
newest first, `limit` (1..1000, default 100) and an opaque-enough `cursor` (the last id), and
one alert with its history oldest first. Written the way a Django team would: the ORM,
.values() to skip model instantiation, JsonResponse."""
from django.http import JsonResponse

from .models import Alert, AlertHistory

FIELDS = ("id", "workflow", "step", "instance_id", "user_id", "status", "error",
          "occurred_at", "created_at", "updated_at", "resolved_at", "resolved_by")


def _err(status, code, message):
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _alert(row):
    out = dict(row)
    out["state"] = out.pop("status")
    for k in ("occurred_at", "created_at", "updated_at", "resolved_at"):
        if out[k] is not None:
            out[k] = out[k].strftime("%Y-%m-%dT%H:%M:%SZ")
    out["opened_at"] = out.pop("created_at")
    return out


def alert_list(request):
    try:
        limit = int(request.GET.get("limit", 100))
        cursor = int(request.GET["cursor"]) if "cursor" in request.GET else None
    except ValueError:
        return _err(400, "bad_request", "bad limit or cursor")
    if not 1 <= limit <= 1000:
        return _err(400, "bad_request", "limit must be 1..1000")
    qs = Alert.objects.order_by("-id")
    if cursor is not None:
        qs = qs.filter(id__lt=cursor)
    rows = [_alert(r) for r in qs.values(*FIELDS)[:limit + 1]]
    nxt = str(rows[limit - 1]["id"]) if len(rows) > limit else None
    return JsonResponse({"items": rows[:limit], "next_cursor": nxt})


def alert_detail(request, alert_id):
    row = Alert.objects.filter(id=alert_id).values(*FIELDS).first()
    if row is None:
        return _err(404, "not_found", f"alert {alert_id} not found")
    out = _alert(row)
    out["history"] = [
        {"at": h["at"].strftime("%Y-%m-%dT%H:%M:%SZ"), "event": "transition",
         "from": h["from_status"] or None, "to": h["to_status"], "reason": h["reason"] or None}
        for h in AlertHistory.objects.filter(alert_id=alert_id).order_by("id")
        .values("at", "from_status", "to_status", "reason")
    ]
    return JsonResponse(out)
