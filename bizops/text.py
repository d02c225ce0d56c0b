"""Text that people type: what may reach the database, an email header or a calendar line.

C0 control characters (U+0000-U+001F) and DEL never do, except a tab anywhere and a newline in
multi-line text. A carriage return in a title would otherwise be refused by Django as an email
header (and stop a batch of emails), split an iCalendar line into a forged event, and a NUL is
refused by PostgreSQL itself (a 500). Browsers send textareas with CRLF line ends, so multi-line
text has CRLF and lone CR turned into LF first; anything left is refused with a field error, never
silently dropped, so what is saved is what the person sees.

Every input surface runs its text through ``clean_text``: forms through ``bizops.forms.Form`` and
``ModelForm``, API bodies through the serializers' base class, imported files (CSV, plan JSON)
field by field.
"""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError

# Tab (U+0009) is allowed everywhere; newline (U+000A) only in multi-line text.
_LINE_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def control_error(char: str) -> str:
    name = unicodedata.name(char, "") or {"\r": "CARRIAGE RETURN", "\n": "LINE FEED", "\x00": "NULL"}.get(
        char, "CONTROL CHARACTER"
    )
    return f"Remove the control character U+{ord(char):04X} ({name.lower()}): it cannot be saved."


def clean_text(value: str, *, multiline: bool = False) -> str:
    """``value`` with CRLF/CR normalized to LF (multi-line text), or a ValidationError naming the
    first control character that is left. Single-line text may hold no line break at all."""
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    found = (_TEXT_CONTROLS if multiline else _LINE_CONTROLS).search(value)
    if found:
        raise ValidationError(control_error(found.group()), code="control_character")
    return value


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    try:
        clean_text(value, multiline=multiline)
    except ValidationError:
        return True
    return False


# --- Forms ------------------------------------------------------------------------------------------


class CleanTextMixin:
    """Runs every text a form cleaned through ``clean_text``: multi-line for textareas, single-line
    for the rest (passwords are left alone: they are never shown, sent or stored as typed). A bad
    value is a field error and leaves ``cleaned_data``, so the view never sees it."""

    def clean(self):
        cleaned = super().clean()  # type: ignore[misc]
        for name, value in list(cleaned.items()):
            field = self.fields.get(name)  # type: ignore[attr-defined]
            if not isinstance(value, str) or field is None:
                continue
            if isinstance(field.widget, forms.PasswordInput):
                continue
            try:
                cleaned[name] = clean_text(value, multiline=isinstance(field.widget, forms.Textarea))
            except ValidationError as exc:
                self.add_error(name, exc)  # type: ignore[attr-defined]
        return cleaned


class Form(CleanTextMixin, forms.Form):
    """The base of the project's forms (see ``CleanTextMixin``)."""


class ModelForm(CleanTextMixin, forms.ModelForm):
    """The base of the project's model forms (see ``CleanTextMixin``)."""
