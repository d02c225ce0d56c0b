"""bizops/templatetags/ui.py: ``fast_date`` prints what Django's ``date`` prints, and no builtin library of
ours takes the name of a Django tag or filter."""

import datetime
import zoneinfo

import pytest
from django.template import defaultfilters
from django.utils import timezone, translation

from bizops.templatetags import ui

FORMATS = ["j M Y", "j M Y H:i", "j M", "M Y", "j F Y", "j M Y H:i:s", "d/m/Y", "D j M", "N j, Y", "", None]


def outcome(date_filter, value, fmt):
    """What the filter prints, or the error it raises (Django's refuses a time format for a date)."""
    try:
        return date_filter(value, fmt)
    except TypeError as exc:
        return type(exc)


@pytest.mark.parametrize("language", ["en", "de", "fr"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "Pacific/Auckland"])
def test_fast_date_prints_what_djangos_date_filter_does(language, zone, settings):
    settings.BIZOPS_FAST_DATES = True  # the fast path itself, whatever the run's setting
    moments = [
        datetime.datetime(2026, 1, 1, 0, 5, 9, tzinfo=datetime.UTC),
        datetime.datetime(2026, 3, 29, 1, 30, tzinfo=datetime.UTC),  # the night Paris moves its clocks
        datetime.datetime(2027, 12, 31, 23, 59, 59, tzinfo=datetime.UTC),
    ]
    days = [datetime.date(2026, 5, 3), datetime.date(2027, 9, 30), datetime.date(1999, 12, 31)]
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
        for fmt in FORMATS:
            for moment in moments:
                local = timezone.template_localtime(moment)
                assert ui.fast_date(local, fmt) == defaultfilters.date(local, fmt), (fmt, moment)
            for day in days:
                # Twice: the second answer comes from memory and must be the same.
                assert outcome(ui.fast_date, day, fmt) == outcome(defaultfilters.date, day, fmt), (fmt, day)
                assert outcome(ui.fast_date, day, fmt) == outcome(defaultfilters.date, day, fmt), (fmt, day)
    assert ui.fast_date(None, "j M Y") == "" and ui.fast_date("", "j M Y") == ""


def test_fast_date_turned_off_is_djangos_filter(settings):
    settings.BIZOPS_FAST_DATES = False
    day = datetime.date(2026, 5, 3)
    assert ui.fast_date(day, "j M Y") == defaultfilters.date(day, "j M Y") == "3 May 2026"
    assert ui.fast_date(day, "D") == defaultfilters.date(day, "D")


def test_no_builtin_library_shadows_a_django_tag_or_filter():
    """Ours are added to every template (``OPTIONS["builtins"]``) after Django's: a ``url`` or ``date``
    of ours would silently replace Django's in every template."""
    from django.template import engines

    engine = engines["django"].engine
    django_libraries = [lib for lib in engine.template_builtins if lib.__module__.startswith("django.")]
    django_tags = {name for lib in django_libraries for name in lib.tags}
    django_filters = {name for lib in django_libraries for name in lib.filters}
    assert {"url", "now", "load"} <= django_tags and {"date", "time", "floatformat"} <= django_filters
    for library in engine.template_builtins:
        if library not in django_libraries:
            assert not django_tags & set(library.tags), library.tags.keys()
            assert not django_filters & set(library.filters), library.filters.keys()


def test_a_date_in_a_template_is_formatted_in_the_viewers_zone_and_language():
    from django.template import engines

    template = engines["django"].from_string('{{ when|date:"j M Y H:i" }} · {{ day|date:"j F Y" }}')
    context = {
        "when": datetime.datetime(2026, 11, 30, 23, 30, tzinfo=datetime.UTC),
        "day": datetime.date(2026, 5, 1),
    }
    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        assert template.render(context) == "1 Dec 2026 00:30 · 1 May 2026"
    with translation.override("de"), timezone.override(zoneinfo.ZoneInfo("UTC")):
        assert template.render(context) == "30 Nov 2026 23:30 · 1 Mai 2026"


def test_a_remembered_badge_never_serves_safe_markup_for_plain_text():
    from django.utils.safestring import mark_safe

    assert "<i>x</i>" in ui.badge(mark_safe("<i>x</i>"))  # a template literal is drawn as written
    assert "&lt;i&gt;x&lt;/i&gt;" in ui.badge("<i>x</i>")  # the same text from data is escaped
    assert "&lt;b&gt;" in ui.progress(5, label="<b>")


@pytest.mark.parametrize("language", ["en", "de"])
def test_two_places_prints_what_floatformat_minus_two_prints(language, settings):
    from decimal import Decimal

    values = [
        Decimal("0"),
        Decimal("-0"),
        Decimal("3"),
        Decimal("3.0000"),
        Decimal("184.5000"),
        Decimal("0.005"),
        Decimal("0.015"),
        Decimal("-2.675"),
        Decimal("1234567.891"),
        Decimal("99999999.9950"),
        7,
        0.1,
        2.5,
        -3.25,
        "12.5",
        "abc",
        None,
        Decimal("NaN"),
        float("inf"),
    ]
    with translation.override(language):
        for value in values:
            assert ui.two_places(value) == defaultfilters.floatformat(value, "-2"), value
        settings.USE_THOUSAND_SEPARATOR = True
        assert ui.two_places(Decimal("1234567.5")) == defaultfilters.floatformat(Decimal("1234567.5"), "-2")


def test_every_status_icon_is_drawn_in_svg_not_a_font_glyph():
    """Statuses' icons are names in ``ui.ICONS`` (inline SVG); a glyph such as ⧗ is an empty box where
    the system fonts lack it. Every name a template or a status table uses must exist."""
    import re
    from pathlib import Path

    from django.conf import settings as django_settings

    from metrics.rules import STATUS
    from metrics.templatetags.check_ins import CONFIDENCE
    from planning.progress import HEALTH

    used = {icon for _, icon, _ in (*ui.STEP_STATUS.values(), *ui.PLAN_STATUS.values(), *HEALTH.values())}
    used |= {icon for _, icon, _ in STATUS.values()} | {icon for _, icon, _ in CONFIDENCE.values()}
    for template in Path(django_settings.BASE_DIR, "templates").rglob("*.html"):
        used |= set(re.findall(r'icon="([^"]+)"', template.read_text()))
        used |= set(re.findall(r'{% icon "([^"]+)" %}', template.read_text()))
    assert used and used <= set(ui.ICONS)
    html = ui.badge("In review", "hourglass", "accent")
    assert "<svg" in html and 'aria-hidden="true"' in html and "In review" in html
    assert "⧗" not in ui.plan_status("in_review")
    with pytest.raises(KeyError):
        ui.badge("Unknown", "no-such-icon", "")
