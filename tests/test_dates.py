"""Date parsing shared by the core and plugins (``wiki.dates``, offered as ``wiki.api``)."""

from datetime import date, datetime

import pytest

from wiki.api import parse_date, parse_datetime, parse_form_date


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2024-03-19", date(2024, 3, 19)),
        (" 2024-03-19 18:30 ", date(2024, 3, 19)),
        (date(2024, 3, 19), date(2024, 3, 19)),
        (datetime(2024, 3, 19, 18, 30), date(2024, 3, 19)),
        ("2024-02-30", None),
        ("19.03.2024", None),
        (20240319, None),
        (None, None),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected


def test_parse_datetime():
    assert parse_datetime("2024-03-19 18:30") == datetime(2024, 3, 19, 18, 30)
    assert parse_datetime("2024-03-19T18:30:05") == datetime(2024, 3, 19, 18, 30, 5)
    assert parse_datetime("2024-03-19") == datetime(2024, 3, 19)
    assert parse_datetime("2024-03-19 25:00") is None
    assert parse_datetime("morgen") is None


@pytest.mark.parametrize(
    "text,expected",
    [("", None), ("  ", None), ("2024-03-19", date(2024, 3, 19)), ("9.3.2024", date(2024, 3, 9))],
)
def test_parse_form_date(text, expected):
    assert parse_form_date(text) == expected


@pytest.mark.parametrize("text", ["31.02.2024", "2024-13-01", "morgen", "19.03.24", "2024/03/19"])
def test_parse_form_date_refuses_the_rest(text):
    with pytest.raises(ValueError):
        parse_form_date(text)
