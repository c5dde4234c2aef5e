"""Typed text made safe to store and compare: one Unicode form, no hidden characters.

Text pasted from a spreadsheet, a chat or a web page brings characters nobody sees: a
zero-width space, a soft hyphen or a byte-order mark makes the same receipt number look new;
control characters and bidirectional overrides (U+202E) change what a list, an export or a
terminal shows. So every free text a clerk types (names, addresses, receipts, reasons) is:

- stripped of invisible format characters (Unicode category Cf, e.g. U+200B, U+00AD, U+FEFF);
- put in NFC form, which keeps what Chinese text means to look like: the full-width
  punctuation of an input method ("票据齐全，同意报销。", "（和平里店）") stays as typed;
- codes and numbers only (receipt and payment numbers: `fold=True`) are also folded to NFKC:
  the fullwidth letters and digits of an input method become their plain forms, so "ＲＸ-１"
  and "RX-1" are the same receipt. Where two free texts must be recognised as the same (a
  hospital's name in a receipt's match), `match_key` folds a copy for the comparison only;
- cut of blanks at both ends; single-line text has each run of blanks made one space;
- refused if a control character (other than a line break or tab in a multi-line text) or a
  bidirectional control remains, telling the clerk which one and where.

Numbers with a fixed pattern (ID numbers, phones, card numbers) are not normalized: they are
checked against their pattern as typed.
"""

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# They reorder what is shown around them; refused rather than removed, so nobody is misled.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
MULTILINE_CONTROLS = frozenset("\n\t")


def normalize_text(
    value: str, *, multiline: bool = False, fold: bool = False, upper: bool = False
) -> str:
    """Return `value` without invisible format characters, in NFC form, with tidy blanks.

    `fold` folds compatibility forms as well (NFKC: a code or a number, never prose); `upper`
    folds and upper-cases it (a receipt number), before the caller checks its length: "ß"
    becomes "SS".
    """
    shown = value
    if not value.isprintable():
        # A printable text holds no format character (Cf is not printable): most of a
        # file's names and addresses skip this walk, char by char (the legacy import).
        shown = "".join(c for c in value if c in BIDI_CONTROLS or unicodedata.category(c) != "Cf")
    text = unicodedata.normalize("NFKC" if fold or upper else "NFC", shown)
    if upper:
        text = unicodedata.normalize("NFKC", text.upper())
    if multiline:
        return "\n".join(line.rstrip() for line in text.splitlines()).strip()
    return " ".join(text.split())


def match_key(value: str) -> str:
    """Return the form by which two texts are the same for a match: folded, case-free, tidy.

    "（和平里店）" and "(和平里店)" name one pharmacy; the stored text keeps what was typed.
    """
    return normalize_text(value or "", fold=True).casefold()


def forbidden_character(value: str) -> tuple[int, str] | None:
    """Return (position from 1, character) of the first control or bidi character, or None."""
    if value.isprintable():
        return None  # controls (Cc) and bidi controls (Cf) are not printable
    for position, character in enumerate(value, start=1):
        if character in BIDI_CONTROLS or (
            unicodedata.category(character) == "Cc" and character not in MULTILINE_CONTROLS
        ):
            return position, character
    return None


def validate_plain_text(value: str) -> None:
    """Refuse text holding a control character or a bidirectional control."""
    found = forbidden_character(value or "")
    if found is not None:
        position, character = found
        raise ValidationError(
            _(
                "Remove the hidden control character %(code)s at position %(position)d; "
                "it often comes with copied text. Type the text again if unsure."
            ),
            code="control_character",
            params={"code": f"U+{ord(character):04X}", "position": position},
        )


def required_text(
    value: str, *, field: str, message: str, multiline: bool = True, fold: bool = False
) -> str:
    """Return the normalized text, or raise ValidationError({field: ...}) if it is blank or bad.

    For services whose text may come from elsewhere than a form (a reason, a reference).
    """
    text = normalize_text(value or "", multiline=multiline, fold=fold)
    if not text:
        raise ValidationError({field: message})
    try:
        validate_plain_text(text)
    except ValidationError as error:
        raise ValidationError({field: error.error_list}) from error
    return text


class PlainTextField(forms.CharField):
    """A form CharField whose text is normalized before its length and characters are checked."""

    default_validators = [validate_plain_text]

    def __init__(
        self, *, multiline: bool = False, fold: bool = False, upper: bool = False, **kwargs
    ) -> None:
        self.multiline, self.fold, self.upper = multiline, fold, upper
        super().__init__(**kwargs)
        # validate_plain_text refuses NUL too, with a message that says where it is.
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]

    def to_python(self, value):
        value = super().to_python(value)
        if isinstance(value, str):
            return normalize_text(value, multiline=self.multiline, fold=self.fold, upper=self.upper)
        return value


class PlainCharField(models.CharField):
    """A model CharField kept normalized: `full_clean`, saving and exact lookups see the
    normalized text, so a stored value and a typed one compare as a clerk reads them."""

    default_validators = [validate_plain_text]

    def __init__(self, *args, upper: bool = False, **kwargs) -> None:
        self.upper = upper
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.upper:
            kwargs["upper"] = True
        return name, path, args, kwargs

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_text(value, upper=self.upper) if isinstance(value, str) else value

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PlainTextField, "upper": self.upper, **kwargs})
