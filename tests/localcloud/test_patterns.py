"""Matching rules: log filter patterns, schedules, API routes, partial batch responses."""

from __future__ import annotations

import calendar

import pytest

from hoptrace_localcloud.apiserver import Route
from hoptrace_localcloud.esm import failed_message_ids
from hoptrace_localcloud.filterpattern import UnsupportedPattern, compile_pattern
from hoptrace_localcloud.schedules import Cron, ScheduleError, next_fire_function, rate_seconds


@pytest.mark.parametrize(("pattern", "line", "expected"), [
    ("", "anything", True),
    ("ERROR", "[ERROR] boom", True),
    ("ERROR", "all fine", False),
    ("ERROR timeout", "ERROR: timeout", True),
    ("ERROR timeout", "ERROR: crash", False),
    ('"Task timed out"', "x Task timed out after 3.00 seconds", True),
    ("?REPORT ?HOPTRACE", "HOPTRACE {}", True),
    ("?REPORT ?HOPTRACE", "START RequestId", False),
    ("ERROR -retrying", "ERROR retrying", False),
    ("%^REPORT .*Init Duration%", "REPORT RequestId: x\tInit Duration: 3 ms", True),
])
def test_filter_patterns(pattern, line, expected):
    assert compile_pattern(pattern)(line) is expected


def test_json_filter_pattern_is_reported_unsupported():
    with pytest.raises(UnsupportedPattern, match="JSON"):
        compile_pattern('{ $.level = "error" }')


def test_rate_expressions_and_scale():
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("rate(1 hour)") == 3600
    assert next_fire_function("rate(1 minute)", 0.01)(100.0) == pytest.approx(100.6)


def test_cron_next_fire_times():
    start = calendar.timegm((2024, 1, 1, 10, 7, 30))  # a Monday
    # every 15 minutes
    assert Cron.parse("cron(0/15 * * * ? *)").next_after(start) == calendar.timegm((2024, 1, 1, 10, 15, 0))
    # 08:30 on weekdays -> Tuesday morning
    assert Cron.parse("cron(30 8 ? * MON-FRI *)").next_after(start) == calendar.timegm((2024, 1, 2, 8, 30, 0))
    # first of the month at noon
    assert Cron.parse("cron(0 12 1 * ? *)").next_after(start) == calendar.timegm((2024, 1, 1, 12, 0, 0))
    # Sundays (1 = SUN)
    assert Cron.parse("cron(0 0 ? * 1 *)").next_after(start) == calendar.timegm((2024, 1, 7, 0, 0, 0))


@pytest.mark.parametrize("expression", ["cron(0 12 L * ? *)", "cron(1 2 3)", "at(2024-01-01)"])
def test_unsupported_schedules_say_so(expression):
    with pytest.raises(ScheduleError):
        next_fire_function(expression)


def test_one_time_schedules_fire_once_and_rates_after_one_period():
    when = calendar.timegm((2024, 1, 1, 10, 0, 0))
    once = next_fire_function("at(2024-01-01T10:00:00)")
    assert once(when - 60) == when
    assert once(when + 1) > when + 365 * 86400  # fired: never again
    assert next_fire_function("rate(5 minutes)")(when) == when + 300  # first fire one period after start


def test_routes_match_parameters_greedy_paths_and_methods():
    item = Route("GET", "/items/{id}", "rest", print, "f")
    proxy = Route("ANY", "/files/{proxy+}", "http", print, "f")
    assert item.match("GET", "/items/42") == {"id": "42"}
    assert item.match("POST", "/items/42") is None
    assert item.match("GET", "/items/42/more") is None
    assert proxy.match("DELETE", "/files/a/b/c") == {"proxy": "a/b/c"}
    exact = Route("GET", "/items/special", "rest", print, "f")
    assert sorted([proxy, item, exact], key=lambda r: r.specificity) == [exact, item, proxy]


def test_partial_batch_response_rules():
    ids = {"a", "b"}
    assert failed_message_ids(None, ids) == set()
    assert failed_message_ids({"batchItemFailures": []}, ids) == set()
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "a"}]}, ids) == {"a"}
    # an unknown or empty identifier fails the whole batch, as Lambda does
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, ids) is None
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, ids) is None
