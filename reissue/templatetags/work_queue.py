"""{% work_queue user as queue %}: the counts of the clerk's work queue on the admin home."""

from django import template

from reissue.work_queue import work_queue_for

register = template.Library()


@register.simple_tag
def work_queue(user):
    return work_queue_for(user)
