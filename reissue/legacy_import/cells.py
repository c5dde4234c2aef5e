"""Reading one cell of a legacy file: text, dates, yes/no, and choices by value or label."""

import datetime
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

TRUE_WORDS = {"1", "true", "yes", "y", "是", "有", "√"}
FALSE_WORDS = {"", "0", "false", "no", "n", "否", "无", "×"}
DATE_TEXT = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# The error messages show a cell at most this long (a file's cells may be up to
# IMPORT_MAX_CELL_CHARS long).
SHOWN_CHARS = 60


def cell_text(value: Any) -> str:
    """Return a cell as text, stripped; a whole number typed into a spreadsheet without ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed into a spreadsheet cell
    return str(value).strip()


def shown(text: str, most: int) -> str:
    """Return `text` cut to `most` characters, with an ellipsis if it was cut."""
    return text if len(text) <= most else text[: most - 1] + "…"


def cell_date(value: Any) -> datetime.date | None:
    """Return a date cell (Excel's, or typed as 2024-03-05, 2024/3/5, 2024年3月5日, 20240305)."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_text(value)
    if not text:
        return None
    match = DATE_TEXT.match(text) or DATE_DIGITS.match(text)
    if match is None:
        raise ValidationError(_("Enter the date as YYYY-MM-DD, for example 2024-03-05."))
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise ValidationError(_("“%(value)s” is not a real date.") % {"value": text}) from None


def cell_bool(value: Any) -> bool:
    """Return a yes/no cell: 1/0, yes/no, 是/否, 有/无, √/×; empty is no."""
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValidationError(_("Enter yes or no (1 or 0)."))


def in_every_language(make: Callable[[], Iterable[str]]) -> set[str]:
    """Return the texts `make` returns in each of our languages."""
    names = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            names.update(str(name) for name in make())
    return names


class ChoiceCell:
    """Read a cell of `choices` by its stored value or its label, in any of our languages."""

    def __init__(self, choices: type[models.TextChoices]) -> None:
        self.choices = choices
        self.lookup = {value.lower(): value for value in choices.values}
        for value in choices.values:
            for label in in_every_language(lambda value=value: [choices(value).label]):
                self.lookup[label.lower()] = value

    def __call__(self, value: Any) -> str:
        text = cell_text(value)
        if text and text.lower() not in self.lookup:
            labels = pgettext("list", ", ").join(str(label) for label in self.choices.labels)
            raise ValidationError(
                _("“%(value)s” is not one of: %(choices)s.")
                % {"value": shown(text, SHOWN_CHARS), "choices": labels}
            )
        return self.lookup.get(text.lower(), "")
