"""Writes of the exports: the access-log record of a file holding personal numbers in full."""

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _

from audit.chain import chain_append
from audit.models import AccessKind, PersonalDataAccess

from .files import describe_filters


def export_with_full_numbers_record(
    *,
    acting_user: AbstractUser,
    model: type[models.Model],
    count: int,
    file_format: str,
    filters: MultiValueDict,  # the list's query parameters (a QueryDict)
) -> PersonalDataAccess:
    """Log an export of `count` rows of `model`'s list with full personal numbers, as one
    access-log record naming the format and the list's `filters` (ID numbers in them masked)."""
    reason = _("export of %(count)d %(objects)s (%(format)s, %(filters)s)") % {
        "count": count,
        "objects": model._meta.verbose_name_plural,
        "format": file_format,
        "filters": describe_filters(filters),
    }
    # One record, appended to the chain in a transaction of its own (chain_append's).
    return chain_append(
        PersonalDataAccess(
            kind=AccessKind.EXPORT,
            actor=acting_user,
            content_type=ContentType.objects.get_for_model(model),
            object_id=0,
            case=None,
            field="export",
            reason=reason,
        )
    )
