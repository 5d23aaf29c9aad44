"""The SQLite store merges invocations and DLQ messages in SQL: the very outcome of the Python rules."""

from __future__ import annotations

import itertools
import random

from hoptrace_collector.store import Store
from hoptrace_collector.store.model import DlqMessage, InvocationRecord
from hoptrace_collector.store.rules import OUTCOME_SEVERITY, merge_dlq, merge_invocation

_OUTCOMES = list(OUTCOME_SEVERITY)
_MESSAGES = ["", "RequestId: r Error: Runtime exited with error: signal: killed", "Task timed out after 3.00 seconds"]


def _invocation(rng: random.Random, request_id: str) -> InvocationRecord:
    pick = rng.choice
    return InvocationRecord(request_id=request_id, function="f", time_ns=rng.randint(1, 5), outcome=pick(_OUTCOMES),
                            duration_ms=pick([None, 12.5, 3000.0]), billed_ms=pick([None, 13.0]),
                            memory_mb=pick([None, 0, 128]), max_memory_mb=pick([None, 70, 128, 200]),
                            init_ms=pick([None, 250.5]), message=pick(_MESSAGES), log_group=pick(["", "/aws/lambda/f"]),
                            log_stream=pick(["", "s1", "s2"]), trace_id=pick([None, "a" * 32, "b" * 32]))


def test_invocations_merge_in_sql_as_the_rule_says(store: Store) -> None:
    rng = random.Random(18)
    olds = [_invocation(rng, f"r{n}") for n in range(600)]
    news = [_invocation(rng, f"r{n}") for n in range(600)]
    store.write(invocations=olds)
    written = store.write(invocations=news).invocations_written
    stored = {r.request_id: r for r in store.invocations(limit=10_000)}
    expected = {old.request_id: merge_invocation(old, new) for old, new in zip(olds, news, strict=True)}
    assert stored == expected
    assert written == sum(merge_invocation(o, n) != o for o, n in zip(olds, news, strict=True))
    # a redelivery of the second batch changes nothing
    assert store.write(invocations=news).invocations_written == 0


def test_a_crash_and_its_report_in_one_batch_or_in_two_are_out_of_memory(store: Store) -> None:
    crash = InvocationRecord("r1", "f", 5, "crash", message="RequestId: r1 Error: Runtime exited with error: "
                             "signal: killed")
    report = InvocationRecord("r1", "f", 6, "ok", duration_ms=900.0, memory_mb=128, max_memory_mb=128)
    for request_id, batches in (("r1", [[crash, report]]), ("r2", [[crash], [report]])):
        for batch in batches:
            store.write(invocations=[InvocationRecord(request_id, *[getattr(r, f) for f in
                                                                    r.__dataclass_fields__][1:]) for r in batch])
    one, two = sorted(store.invocations(), key=lambda r: r.request_id)
    assert one.outcome == two.outcome == "oom"
    assert one.message.endswith("(out of memory: 128 of 128 MB used)") and one.message == two.message


def test_dlq_messages_merge_in_sql_as_the_rule_says(store: Store) -> None:
    rng = random.Random(19)
    variants = list(itertools.product([1, 2, 3], [0, 3, 4], [None, "a" * 32], ["", "body"], [None, "orders"],
                                      ["", "boom"]))

    def message(n: int) -> DlqMessage:
        seen, count, trace, body, source, error = rng.choice(variants)
        return DlqMessage("q", f"m{n}", seen, count, trace, trace and "c" * 16, body, source, error)

    olds, news = [message(n) for n in range(300)], [message(n) for n in range(300)]
    store.write(dlq=olds)
    store.write(dlq=news)
    stored = {m.message_id: m for m in store.dlq_messages(limit=10_000)}
    assert stored == {o.message_id: merge_dlq(o, n) for o, n in zip(olds, news, strict=True)}
