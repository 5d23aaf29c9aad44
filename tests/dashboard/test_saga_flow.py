"""A compensated saga reads at a glance in the waterfall: the failed step red, the compensation green."""

from __future__ import annotations

from hoptrace_collector.stepfunctions.history_spans import execution_spans
from hoptrace_dashboard import charts, flow
from tests.collector.test_stepfunctions_spans import SAGA, PaymentDeclined, _described
from tests.localcloud.stepfunctions.runner import Functions, run


def test_failed_step_is_red_and_the_compensation_green():
    def charge(event):
        raise PaymentDeclined("card declined")

    functions = Functions(reserve=lambda e: {}, charge=charge, release=lambda e: {}, mark=lambda e: {})
    status, error, the_run = run(SAGA, {"order": "o1"}, functions)
    spans = execution_spans(_described(the_run, status, error), the_run.history.events)
    rebuilt = flow.build(spans)
    segment = dict(zip(rebuilt.segments["label"].str.split().str[-1], rebuilt.segments["segment"], strict=True))
    assert segment["ChargePayment"] == flow.FAILED_STEP
    assert segment["ReleaseStock"] == segment["MarkOrderFailed"] == flow.COMPENSATION
    assert segment["ReserveStock"] == "Machine" and segment["OrderFailed"] == "Machine"
    spec = charts.waterfall(rebuilt.segments, rebuilt.services).to_dict()
    scale = spec["encoding"]["color"]["scale"]
    colors = dict(zip(scale["domain"], scale["range"], strict=True))
    assert colors[flow.FAILED_STEP] == "#d62728" and colors[flow.COMPENSATION] == "#2ca02c"


def test_a_lambda_task_arrives_through_step_functions_at_its_state():
    from hoptrace_collector.store import SpanRecord
    from hoptrace_dashboard import hops

    task = SpanRecord(trace_id="a" * 32, span_id="b" * 16, parent_id="c" * 16, name="demo-charge-payment",
                      kind="server", start_ns=1, end_ns=2, status="unset", request_id="r-1", trigger="stepfunctions",
                      attributes={"hoptrace.sfn.state": "ChargePayment"})
    hop = hops.inbound(task)
    assert (hop.type, hop.via) == ("Step Functions", "ChargePayment")
