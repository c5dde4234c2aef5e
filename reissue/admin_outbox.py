"""The list of SMS notices (notifications.OutboxMessage), read-only, scoped by office.

Registered here, not in notifications/: the outbox knows no office, this app does (the
message's office id, written with it). The phone shows masked, never in full; a supervisor
may send a failed notice again (reissue.sms.sms_send_again).
"""

import unicodedata

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy, ngettext

from common.exceptions import ObjectNotFound, Refusal
from common.pagination import CappedCountPaginator
from notifications.models import OutboxMessage
from offices.scoping import offices_visible_to

from . import selectors
from .rating_link import text_shown_to_staff
from .sms import can_send_again, sms_messages_visible_to, sms_send_again

SHOWN_FIELDS = [
    "created_at",
    "subject_label",
    "text_shown",
    "masked_phone",
    "state",
    "attempts",
    "last_attempt_at",
    "next_attempt_at",
    "provider_answer",
    "provider_message_id",
    "sent_at",
]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "subject_label",
        "text_shown",
        "masked_phone",
        "state",
        "attempts",
        "sent_at",
    ]
    list_display_links = ["created_at"]
    list_filter = ["state"]
    search_fields = ["subject_label"]  # searched by get_search_results: exact references
    search_help_text = gettext_lazy("Search by case reference or case number (26).")
    sortable_by = []  # newest first, as the office's index serves it
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 100
    fields = SHOWN_FIELDS
    readonly_fields = SHOWN_FIELDS
    actions = ["send_again"]

    @admin.display(description=OutboxMessage._meta.get_field("text").verbose_name)
    def text_shown(self, message: OutboxMessage) -> str:
        return text_shown_to_staff(message.text)  # a rating link's token masked

    @admin.display(description=gettext_lazy("phone"))
    def masked_phone(self, message: OutboxMessage) -> str:
        return message.masked_phone or "—"

    def get_queryset(self, request):
        return sms_messages_visible_to(user=request.user)

    def get_search_results(self, request, queryset, search_term):
        """Match the exact references the term stands for (the reference's index answers)."""
        # The case list's reading of a case number (imported here: admin.py imports this).
        from .admin import CASE_NUMBER

        term = unicodedata.normalize("NFKC", search_term).strip().upper()
        if not term:
            return queryset, False
        references = [term]
        match = CASE_NUMBER.match(term)
        if match is not None and int(match["number"]):
            references += selectors.case_references_numbered(
                offices=offices_visible_to(request.user),
                number=int(match["number"]),
                office_code=match["office"] or "",
                year=int(match["year"]) if match["year"] else None,
            )
        return queryset.filter(subject_label__in=references), False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_send_again_permission(self, request) -> bool:
        return can_send_again(request.user)

    @admin.action(
        description=gettext_lazy("Send the selected failed SMS again"), permissions=["send_again"]
    )
    def send_again(self, request, queryset):
        queued = 0
        for message in queryset:
            try:
                sms_send_again(message=message, acting_user=request.user)
            except (Refusal, ObjectNotFound, PermissionDenied) as error:
                reason = getattr(error, "message", None) or " ".join(map(str, error.args))
                messages.warning(request, f"{message.subject_label}: {reason}")
            else:
                queued += 1
        if queued:
            messages.success(
                request,
                ngettext(
                    "%(count)d SMS notice queued to be sent again.",
                    "%(count)d SMS notices queued to be sent again.",
                    queued,
                )
                % {"count": queued},
            )
