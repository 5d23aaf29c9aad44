"""The merge rules of `rules.py` for invocations and DLQ messages, as SQLite upserts.

`INSERT … ON CONFLICT DO UPDATE` applies `rules.merge_invocation` / `rules.merge_dlq` inside
SQLite, so a batch is written without reading the stored rows back into Python. In an upsert's
SET every expression sees the stored row (bare column names) and the new one (`excluded.`),
which is exactly the (old, new) pair the Python rules take. The `WHERE … IS NOT …` leaves a row
that would not change untouched, so `total_changes` counts only real changes (a redelivery
counts none). The contract suite (tests/collector/test_store_contract.py) holds both backends
to the same outcomes; a batch repeating a key is folded by the Python rule first, as the
DynamoDB store does.
"""

from __future__ import annotations

from hoptrace_collector.store.rules import OUTCOME_SEVERITY
from hoptrace_collector.store.sqlite_schema import DLQ_COLUMNS, INVOCATION_COLUMNS


def _severity(column: str) -> str:
    cases = " ".join(f"WHEN '{outcome}' THEN {rank}" for outcome, rank in OUTCOME_SEVERITY.items() if rank)
    return f"(CASE {column} {cases} ELSE 0 END)"


def _known(column: str) -> str:
    """`rules._known(new, old)`: the new value unless it is missing."""
    return f"coalesce(excluded.{column}, {column})"


def _either(column: str) -> str:
    """`new or old` for text: the new value unless it is empty."""
    return f"coalesce(nullif(excluded.{column}, ''), {column})"


def _upsert(table: str, columns: tuple[str, ...], key: tuple[str, ...], merged: dict[str, str]) -> str:
    changed = [c for c in columns if c not in key]
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
            + ", ".join(f"{c} = {merged[c]}" for c in changed)
            + f" WHERE ({', '.join(changed)}) IS NOT ({', '.join(merged[c] for c in changed)})")


def _invocation_merge() -> dict[str, str]:
    """`rules.merge_invocation`: the worst outcome with its message, every figure known, then out-of-memory."""
    new_worse = f"({_severity('excluded.outcome')} > {_severity('outcome')})"
    outcome = f"(CASE WHEN {new_worse} THEN excluded.outcome ELSE outcome END)"
    message = (f"(CASE WHEN {new_worse} THEN coalesce(nullif(excluded.message, ''), message) "
               f"ELSE coalesce(nullif(message, ''), excluded.message) END)")
    memory, used = _known("memory_mb"), _known("max_memory_mb")
    oom = (f"({outcome} = 'crash' AND instr({message}, 'signal: killed') > 0 AND coalesce({memory}, 0) <> 0 "
           f"AND {used} IS NOT NULL AND {used} >= {memory})")
    return {
        "time_ns": "max(time_ns, excluded.time_ns)",
        "outcome": f"(CASE WHEN {oom} THEN 'oom' ELSE {outcome} END)",
        "message": (f"(CASE WHEN {oom} THEN {message} || ' (out of memory: ' || {used} || ' of ' || {memory} "
                    f"|| ' MB used)' ELSE {message} END)"),
        **{c: _known(c) for c in ("duration_ms", "billed_ms", "memory_mb", "max_memory_mb", "init_ms", "trace_id")},
        "log_group": _either("log_group"), "log_stream": _either("log_stream"),
    }


def _dlq_merge() -> dict[str, str]:
    """`rules.merge_dlq`: the earliest sighting and its receive count, every detail known."""
    return {
        "first_seen_ns": "min(first_seen_ns, excluded.first_seen_ns)",
        "receive_count": "(CASE WHEN first_seen_ns <= excluded.first_seen_ns THEN receive_count "
                         "ELSE excluded.receive_count END)",
        **{c: _known(c) for c in ("trace_id", "parent_span_id", "source_queue")},
        "body_preview": _either("body_preview"), "error": _either("error"),
    }


UPSERT_INVOCATION = _upsert("invocations", INVOCATION_COLUMNS, ("function", "request_id"), _invocation_merge())
UPSERT_DLQ = _upsert("dlq", DLQ_COLUMNS, ("queue", "message_id"), _dlq_merge())
