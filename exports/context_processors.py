"""The notice of an export finished in the background, on the requester's next admin page.

A worker cannot add a Django message to a user's next page. So the export page keeps the ids
of the exports it enqueued in the session, and this context processor, for a session holding
some (and only then: any other page costs no query), reads those still there in one query by
primary key, and hands the finished ones to the admin's base template once (then forgets
them). Read lazily, when the template shows the notices: a page that shows none forgets none.
"""

from django.urls import reverse

from .models import BackgroundExport, ExportStatus

PENDING_KEY = "exports_pending"
FINISHED = (ExportStatus.DONE, ExportStatus.FAILED)


def remember_pending(session, export_id: int) -> None:
    """Have the requester told on a later page when the export is done."""
    session[PENDING_KEY] = [*session.get(PENDING_KEY, []), export_id]


def finished_exports(request) -> dict:
    session = getattr(request, "session", None)
    if session is None or not session.get(PENDING_KEY):
        return {}
    return {"finished_exports": lambda: _pop_finished(request)}


def _pop_finished(request) -> list[dict]:
    if hasattr(request, "_finished_exports"):  # the template asks more than once
        return request._finished_exports
    pending = request.session.get(PENDING_KEY, [])
    kept = list(
        BackgroundExport.objects.filter(pk__in=pending, requester_id=request.user.pk)
        .select_related("content_type")
        .defer("content")
    )
    finished = [export for export in kept if export.status in FINISHED]
    # An export finished, or no longer there (purged, another user's id), is forgotten.
    remaining = [export.pk for export in kept if export.status not in FINISHED]
    if remaining != pending:
        request.session[PENDING_KEY] = remaining
    request._finished_exports = [
        {
            "export": export,
            "ready": export.status == ExportStatus.DONE,
            "url": reverse("admin:exports_backgroundexport_download", args=[export.pk])
            if export.status == ExportStatus.DONE
            else reverse("admin:exports_backgroundexport_changelist"),
        }
        for export in finished
    ]
    return request._finished_exports
