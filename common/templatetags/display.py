"""Template filters for money, rates and months: `{{ amount|yuan }}`, `{{ rate|percent }}`."""

from django import template

from common.display import format_month, format_percent, format_yuan, staff_name

register = template.Library()
register.filter("yuan", format_yuan)
register.filter("percent", format_percent)
register.filter("month", format_month)
register.filter("staff", staff_name)
