"""What the public pages keep of their own: the looks counted by their rate limits."""

from django.db import models
from django.utils import timezone


class PublicLookKind(models.TextChoices):
    CASE_PROGRESS = "progress", "case progress"
    TEMP_CARD = "tempcard", "temporary card check"
    RATING = "rating", "rating of the service"


class PublicLook(models.Model):
    """One look from a public page, counted per client address and per case reference (typed,
    so a reference that names no case is limited alike). The access log says what was shown."""

    kind = models.CharField(max_length=10, choices=PublicLookKind.choices)
    client_address = models.CharField(max_length=45)
    reference = models.CharField(max_length=32, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "client_address", "at"], name="public_look_address_idx"),
            models.Index(fields=["kind", "reference", "at"], name="public_look_reference_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.client_address} {self.at:%Y-%m-%d %H:%M}"
