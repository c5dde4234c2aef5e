"""An export built in the background: asked for on a list's export page, built by a worker,
kept encrypted for a day for its requester alone (README, "Exports")."""

import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.fields import EncryptedCharField

#: How long a built file is kept; the scheduled purge deletes it then (exports.tasks).
EXPORT_KEPT = datetime.timedelta(days=1)


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"
    JSON = "json", "JSON"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("export state", "queued")
    RUNNING = "running", pgettext_lazy("export state", "being built")
    DONE = "done", pgettext_lazy("export state", "ready")
    FAILED = "failed", pgettext_lazy("export state", "failed")


class BackgroundExport(models.Model):
    """One export of a list, as its requester asked for it, and the file the worker built.

    What to build is kept as the request gave it (the list's query parameters, the columns,
    the format) with `source`, the dotted path of the domain's function that builds it: this
    app sits below the apps whose lists it exports and imports none of them.
    """

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("requested by"),
        editable=False,
    )
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("list")
    )
    source = models.CharField(max_length=200, editable=False)
    #: The permission exporting the list needs, checked again by the worker and at download.
    permission = models.CharField(max_length=100, editable=False)
    file_format = models.CharField(_("format"), max_length=4, choices=ExportFormat.choices)
    #: The list's query parameters, as [name, value] pairs (filters, search, ordering).
    params = models.JSONField(default=list, editable=False)
    #: What else the list's search read from the session (a search by whole ID number is kept
    #: there by its keyed hash only, never the number): the source's own, opaque here.
    search_state = models.JSONField(default=dict, editable=False)
    #: The chosen columns' names; empty: every column.
    columns = models.JSONField(default=list, editable=False)
    language = models.CharField(max_length=10, editable=False)
    status = models.CharField(
        _("state"), max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    task_id = models.UUIDField(null=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    failure = models.TextField(_("why it failed"), blank=True, editable=False)
    created_at = models.DateTimeField(_("asked for at"), default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, editable=False)
    finished_at = models.DateTimeField(_("done at"), null=True, editable=False)
    expires_at = models.DateTimeField(_("kept until"), null=True, db_index=True, editable=False)
    file_name = models.CharField(_("file name"), max_length=200, blank=True, editable=False)
    ascii_file_name = models.CharField(max_length=200, blank=True, editable=False)
    rows = models.PositiveIntegerField(_("rows"), null=True, editable=False)
    size = models.PositiveBigIntegerField(_("size"), null=True, editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, editable=False)
    full_numbers = models.BooleanField(default=False, editable=False)
    #: What the file relied on, checked again at each download: the permission that let it
    #: hold full numbers (empty: masked), and the offices the list covered (the requester's
    #: visible offices at build time; null: every office).
    full_numbers_permission = models.CharField(max_length=100, blank=True, editable=False)
    office_ids = models.JSONField(null=True, editable=False)
    # The file's bytes in base64, encrypted by the field (it may hold full ID numbers), as a
    # card batch keeps its production file.
    content = EncryptedCharField(blank=True, editable=False)

    class Meta:
        verbose_name = _("my export")
        verbose_name_plural = _("my exports")
        ordering = ["-created_at", "-id"]
        default_permissions = ()  # each user sees their own, and only those (exports.admin)
        indexes = [
            models.Index(fields=["requester", "-created_at"], name="export_requester_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=ExportStatus.DONE)
                | (Q(expires_at__isnull=False) & ~Q(sha256="") & ~Q(content="")),
                name="export_done_has_its_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.content_type.name} {self.file_format} #{self.pk}"

    @property
    def list_name(self) -> str:
        model = self.content_type.model_class()
        return str(model._meta.verbose_name_plural if model else self.content_type.name)

    @property
    def downloadable(self) -> bool:
        return self.status == ExportStatus.DONE and self.expires_at > timezone.now()
