"""`hoptrace try` end to end: the bundled AWS-shaped events through the real layer in fresh processes, drawn as a
tree a newcomer can read — the cold start's init beside the invocation, a failed batch record named with its
reason, a legend and a next step."""

from __future__ import annotations

import re

import pytest

from ..cli_run import assert_one_line_error, hoptrace

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def output() -> str:
    proc = hoptrace("try", timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout


def _section(output: str, name: str) -> list[str]:
    block = output.split(f"== {name}\n", 1)[1].split("\n\n", 1)[0]
    return block.splitlines()


def test_the_init_span_is_drawn_beside_the_invocation_before_it(output):
    for name in ("apigateway_v1.json", "eventbridge.json", "sqs_mixed_batch.json"):
        lines = _section(output, name)
        # THEN the first line is the init span at the top level, and the invocation follows at the same depth
        assert lines[0].startswith("  init sample  [internal, "), lines
        assert "cold start" in lines[1] and not lines[1].startswith("    "), lines


def test_a_failed_batch_record_is_named_with_its_reason(output):
    lines = _section(output, "sqs_mixed_batch.json")
    invocation = next(line for line in lines if "cold start" in line)
    assert re.search(r"ERROR 1 of 3 records failed: the handler returned 11111111-0000-4000-8000-000000000003 in "
                     r"batchItemFailures", invocation), invocation
    failed = next(line for line in lines if "reported in batchItemFailures" in line)
    assert failed.startswith("    ") and "message 11111111-0000-4000-8000-000000000003" in failed


def test_a_legend_and_a_next_step_follow(output):
    assert "How to read it:" in output
    for term in ("init …", "cold start", "continues T…/P", "context from X", "link→T…", "ERROR why"):
        assert term in output
    assert "Next: " in output and "hoptrace demo" in output and "hoptrace attach" in output


def test_a_bad_event_file_is_one_line(tmp_path):
    bad = tmp_path / "event.json"
    bad.write_text('{"Records": [\n  {"oops"}\n]}')
    assert_one_line_error(hoptrace("try", "--event", str(bad)), "hoptrace try:", f"{bad}:2:", "not JSON")
    assert_one_line_error(hoptrace("try", "--event", str(tmp_path / "none.json")), "no such event file")
