"""The trace page's logs: a span's invocation log, the interleaved timeline, a failed record's logged cause,
the DLQ as the trace's last hop; and the Failures page naming the logged cause."""

from __future__ import annotations

from tests.dashboard.conftest import ShopStore
from tests.dashboard.shop import root
from tests.dashboard.test_pages import PAGES, no_exception, open_page, table_with


def test_poison_trace_shows_the_cause_and_ends_in_the_dlq(dashboard_env: ShopStore) -> None:
    # GIVEN the poison order's trace (three failed receives, then the payments DLQ)
    at = open_page(PAGES[1], {"trace": root(dashboard_env.poison).trace_id})
    no_exception(at)
    # THEN the hops end with the DLQ, after its receives
    hops = table_with(at, "via")
    assert list(hops.iloc[-1][["to", "hop", "via", "status"]]) == ["payments-dlq", "→ DLQ", "after 3 receives",
                                                                   "error"]
    # AND each failed record's error box shows what was logged while it was processed
    causes = [c.value for c in at.code if "cannot charge message" in c.value]
    assert len(causes) == 3 and all("order o-13 has amount -5.0" in c for c in causes)
    # AND the selected (first failed) span shows its invocation's log, in time order
    logs = next(df.value for df in at.dataframe if "message" in df.value.columns and "what" not in df.value.columns)
    assert list(logs["level"]) == ["INFO", "print"] and "cannot charge message" in logs["message"].iloc[1]
    # AND the timeline interleaves spans, log lines and the dead-lettering
    timeline = table_with(at, "what")
    assert {"span start", "span end", "log", "dead-letter"} <= set(timeline["what"])
    assert list(timeline["at_ms"]) == sorted(timeline["at_ms"])
    assert timeline.iloc[-1]["text"] == "→ payments-dlq after 3 receives"


def test_a_trace_without_dead_letters_ends_where_it_ends(dashboard_env: ShopStore) -> None:
    at = open_page(PAGES[1], {"trace": root(dashboard_env.happy).trace_id})
    no_exception(at)
    assert "→ DLQ" not in set(table_with(at, "via")["hop"])


def test_failures_page_names_the_logged_cause(dashboard_env: ShopStore) -> None:
    at = open_page(PAGES[4])
    no_exception(at)
    [message] = table_with(at, "receive_count").to_dict("records")
    assert "cannot charge message" in message["cause"]
    groups = table_with(at, "example_cause").set_index(["function", "what"])
    assert "cannot charge message" in groups.loc[("demo-payments", "record"), "example_cause"]
    assert "SMTP relay unavailable" in groups.loc[("demo-notifications", "invocation"), "example_cause"]
