"""Stream mappings' `FilterCriteria` at wiring time (unit, fakes for the wiring): a valid filter is handed to the
reader with no warning, an invalid one is one line and no reader, and a Kinesis pattern on a key other than
`data` (which Lambda does not filter Kinesis records on) is one line naming the filter."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hoptrace_localcloud import streammappings
from hoptrace_localcloud.diagnostics import Diagnostics
from hoptrace_localcloud.triggers import TriggerSummary

KINESIS = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
DYNAMODB = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-12-01T00:00:00.000"


def _wire(source: str, criteria: Any) -> tuple[Any, Diagnostics]:
    diagnostics = Diagnostics()
    provisioner = SimpleNamespace(client=lambda service: None, region="us-east-1",
                                  arn=lambda service, rest: f"arn:aws:{service}:us-east-1:123456789012:{rest}")
    wiring = SimpleNamespace(_diag=diagnostics, _p=provisioner, pollers=[], summary=TriggerSummary())
    pool = SimpleNamespace(spec=SimpleNamespace(name="consumer", arn="arn:aws:lambda:::function:consumer"))
    streammappings.add(wiring, "Consumer.Events.Changes", pool, source, {"FilterCriteria": criteria})  # type: ignore[arg-type]
    return wiring, diagnostics


def test_a_valid_filter_reaches_the_reader_without_a_warning() -> None:
    wiring, diagnostics = _wire(DYNAMODB, {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]})
    [reader] = wiring.pollers
    assert diagnostics.warnings == [] and reader._filter({"eventName": "INSERT"})
    assert not reader._filter({"eventName": "REMOVE"})


def test_an_invalid_pattern_is_one_line_and_the_trigger_never_fires() -> None:
    wiring, diagnostics = _wire(KINESIS, {"Filters": [{"Pattern": "{not json"}]})
    assert wiring.pollers == []
    [line] = diagnostics.warnings
    assert line.startswith("Consumer.Events.Changes.FilterCriteria: pattern '{not json' is not JSON")
    assert line.endswith("this trigger never fires")


def test_a_kinesis_pattern_on_metadata_is_named() -> None:
    wiring, diagnostics = _wire(KINESIS, {"Filters": [{"Pattern": '{"data": {"a": [1]}}'},
                                                      {"Pattern": '{"partitionKey": ["p"]}'}]})
    assert len(wiring.pollers) == 1
    assert diagnostics.warnings == ["Consumer.Events.Changes.FilterCriteria.Filters[1]: partitionKey: Kinesis "
                                    "mappings filter on `data` only; this filter passes no record"]
