"""Who sees which incident, in one place for the admin and the services.

Incidents are not office-scoped themselves: supervisors and auditors see every incident,
everyone else only those they reported. The affected cases stay office-scoped as always.
"""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from common.exceptions import ObjectNotFound

from .models import Incident

VIEW_PERMISSION = "incidents.view_incident"
VIEW_ALL_PERMISSION = "incidents.view_all_incidents"


def sees_all_incidents(user) -> bool:
    return user.has_perm(VIEW_PERMISSION) and user.has_perm(VIEW_ALL_PERMISSION)


def can_see_incident(user, incident: Incident) -> bool:
    if not user.has_perm(VIEW_PERMISSION):
        return False
    return sees_all_incidents(user) or incident.reported_by_id == user.pk


def scope_incidents(queryset: QuerySet[Incident], user) -> QuerySet[Incident]:
    """Narrow an incident queryset to those `user` may see."""
    if not user.has_perm(VIEW_PERMISSION):
        return queryset.none()
    if sees_all_incidents(user):
        return queryset
    return queryset.filter(reported_by=user)


def access_incident(user, incident: Incident) -> None:
    """Raise ObjectNotFound unless `user` may see the incident: a hidden one looks missing."""
    if not can_see_incident(user, incident):
        raise ObjectNotFound(_("No such incident."))
