"""Status rules for every direction and threshold, key-result progress, periods."""

from datetime import date
from decimal import Decimal as D

import pytest

from metrics.rules import key_result_progress, kpi_status, last_periods, period_start, plain_number


def status(direction, value, target=D(100), **kw):
    return kpi_status(direction=direction, value=None if value is None else D(value), target=target, **kw).key


@pytest.mark.parametrize("direction", ["increase", "stay_above"])
@pytest.mark.parametrize(
    ("value", "amber", "red", "expected"),
    [
        (100, None, None, "green"),
        (120, None, None, "green"),
        (99, None, None, "amber"),  # below the target with no lines: at risk, never red
        (0, None, None, "amber"),
        (90, 85, 70, "green"),  # short of the target but above the amber line
        (85, 85, 70, "green"),  # on the amber line
        (84, 85, 70, "amber"),
        (70, 85, 70, "amber"),  # on the red line
        (69, 85, 70, "red"),
        (50, None, 70, "red"),
    ],
)
def test_higher_is_better(direction, value, amber, red, expected):
    kw = {"amber": None if amber is None else D(amber), "red": None if red is None else D(red)}
    assert status(direction, value, **kw) == expected


@pytest.mark.parametrize("direction", ["decrease", "stay_below"])
@pytest.mark.parametrize(
    ("value", "amber", "red", "expected"),
    [
        (100, None, None, "green"),
        (80, None, None, "green"),
        (101, None, None, "amber"),
        (110, 115, 130, "green"),
        (116, 115, 130, "amber"),
        (130, 115, 130, "amber"),
        (131, 115, 130, "red"),
    ],
)
def test_lower_is_better(direction, value, amber, red, expected):
    kw = {"amber": None if amber is None else D(amber), "red": None if red is None else D(red)}
    assert status(direction, value, **kw) == expected


@pytest.mark.parametrize(
    ("value", "red", "expected"),
    [
        (40, None, "green"),
        (50, None, "green"),
        (60, None, "green"),
        (39, None, "amber"),
        (75, None, "amber"),
        (61, 5, "amber"),
        (66, 5, "red"),
        (34, 5, "red"),
    ],
)
def test_within_a_range(value, red, expected):
    assert (
        status("within", value, target=D(40), target_upper=D(60), red=None if red is None else D(red))
        == expected
    )


def test_no_value_is_no_data_and_reasons_are_words():
    assert status("increase", None) == "none"
    result = kpi_status(direction="increase", value=D(72), target=D(100), amber=D(85), red=D(70))
    assert result.key == "amber" and result.reason == "72 is below the amber line of 85."
    assert result.label == "At risk" and result.icon == "warning"


@pytest.mark.parametrize(
    ("kind", "start", "target", "current", "expected"),
    [
        ("number", 0, 5, 2, 0.4),
        ("number", 0, 5, 7, 1.0),
        ("number", 0, 5, -1, 0.0),
        ("number", 100, 60, 80, 0.5),  # decreasing key result
        ("percent", 20, 40, 28, 0.4),
        ("currency", 1000, 2000, 1500, 0.5),
        ("yes_no", 0, 1, 1, 1.0),
        ("yes_no", 0, 1, 0, 0.0),
        ("milestone", 0, 100, 35, 0.35),
        ("milestone", 0, 100, 150, 1.0),
    ],
)
def test_key_result_progress(kind, start, target, current, expected):
    value, detail = key_result_progress(kind, D(start), D(target), D(current))
    assert value == pytest.approx(expected)
    assert detail


def test_periods():
    assert period_start("weekly", date(2027, 3, 10)) == date(2027, 3, 8)
    assert period_start("monthly", date(2027, 3, 10)) == date(2027, 3, 1)
    assert period_start("quarterly", date(2027, 5, 10)) == date(2027, 4, 1)
    assert last_periods("monthly", date(2027, 2, 15), 3) == [
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    assert last_periods("quarterly", date(2027, 2, 15), 2) == [date(2026, 10, 1), date(2027, 1, 1)]
    assert (
        plain_number(D("2.0000")) == "2"
        and plain_number(D("1E+2")) == "100"
        and plain_number(D("2.5000")) == "2.5"
    )
