"""`hoptrace.plain`: the layer's records behave as the dataclasses they replaced (equality, repr, frozenness)."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from hoptrace.config import Config
from hoptrace.output import OutputLimits
from hoptrace.redaction import Rules
from hoptrace.triggers.model import Invocation, Record
from hoptrace.wire import Reassembler


def test_mutable_records_compare_by_fields_and_are_unhashable() -> None:
    a = Invocation("sqs", "q process", "consumer", {"k": 1}, records=[Record("process q", "m1", None, {})])
    b = Invocation("sqs", "q process", "consumer", {"k": 1}, records=[Record("process q", "m1", None, {})])
    assert a == b and a != Invocation("sqs", "q process", "consumer", {"k": 2})
    assert a != ("sqs",) and Record("n", "m", None, {}) != Invocation("n", "m", "server", {})
    with pytest.raises(TypeError):
        hash(a)
    a.is_http = True  # mutable, as a plain dataclass
    assert a != b
    assert repr(Record("n", "m", None, {})) == "Record(name='n', message_id='m', parent=None, attributes={})"


def test_defaults_are_fresh_per_instance() -> None:
    first, second = Invocation("t", "n", "server", {}), Invocation("t", "n", "server", {})
    first.records.append(Record("n", "m", None, {}))
    first.problems.append("p")
    assert second.records == [] and second.problems == []
    one, two = Reassembler(), Reassembler()
    one.pending["x"] = {}
    assert two.pending == {}


@pytest.mark.parametrize("make", [lambda: OutputLimits(max_bytes=1), lambda: Rules(frozenset({"bench"})),
                                  lambda: Config(sample_rate=0.5)])
def test_frozen_records_refuse_assignment_and_hash_by_their_fields(make: object) -> None:
    value = make()  # type: ignore[operator]  # each parameter is a factory
    with pytest.raises(AttributeError, match="frozen"):
        value.anything = 1
    name = next(iter(value._fields))
    with pytest.raises(AttributeError, match="frozen"):
        delattr(value, name)
    twin = make()  # type: ignore[operator]  # each parameter is a factory
    assert value == twin and hash(value) == hash(twin)
    assert copy.deepcopy(value) == value


def test_config_stays_a_dataclass_for_its_users() -> None:
    config = Config(sample_rate=0.25)
    changed = dataclasses.replace(config, engine="otel")
    assert (changed.engine, changed.sample_rate) == ("otel", 0.25)
    assert [f.name for f in dataclasses.fields(Config)][:3] == ["enabled", "service_name", "sample_rate"]
    assert dataclasses.asdict(config)["sample_rate"] == 0.25
    assert Config(True, "svc").service_name == "svc"  # positional, as the generated __init__ took them
    assert pickle.loads(pickle.dumps(config)) == config and config != Config()
    assert repr(Config()).startswith("Config(enabled=True, service_name='unknown_service', sample_rate=1.0")
    with pytest.raises(TypeError):
        Config(sample_rat=0.5)  # type: ignore[call-arg]  # a misspelt setting is refused, as before
