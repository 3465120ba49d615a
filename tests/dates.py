"""Dates for tests that must pass on any day of the year.

A test that needs "a few working days, three months ahead" must not take today + N: on
some days of the week (or around a public holiday) that span holds no working day. These
helpers pick the dates from the calendar's rules instead."""

from __future__ import annotations

from datetime import date, timedelta

from incubator.timeutil import today_paris
from incubator.workdays import is_working_day


def working_span(days_ahead: int, length: int = 2, *, today: date | None = None) -> tuple[date, date]:
    """The first `length` consecutive working days (no weekend or holiday between them)
    starting on or after today + `days_ahead`, as (first day, last day)."""
    start = (today or today_paris()) + timedelta(days=days_ahead)
    while not all(is_working_day(start + timedelta(days=n)) for n in range(length)):
        start += timedelta(days=1)
    return start, start + timedelta(days=length - 1)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())
