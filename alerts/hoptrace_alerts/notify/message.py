"""What a notification says, built once per transition and shaped for each channel.

Every channel gets the same facts: FIRING or RESOLVED, the rule, the function (or queue), the
figures (current vs baseline, and where it fires), and a link to the dashboard's Traces page
filtered to the rule's window, plus links to a few example traces. The webhook payload is
Slack-compatible (`text` for notifications and fallbacks, `blocks` for the message) and also
carries the same facts as plain JSON under `alert` for anything that is not Slack. Slack reads
`<…>` in its text as links and mentions, so the text that can carry what a function logged (a
dead-lettered message's error) is escaped as Slack asks (`&`, `<`, `>`): an error saying
`<!channel>` or `<https://evil|click>` is shown as written, never pings anyone or hides a link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hoptrace_alerts import links
from hoptrace_alerts.incidents import FIRING, Transition
from hoptrace_alerts.rules import RULES


@dataclass(frozen=True)
class Notification:
    status: str  # "FIRING" | "RESOLVED"
    transition: Transition
    traces_url: str
    example_urls: tuple[str, ...]

    @classmethod
    def of(cls, transition: Transition, dashboard_url: str) -> Notification:
        finding = transition.finding
        return cls(status="FIRING" if transition.to_state == FIRING else "RESOLVED", transition=transition,
                   traces_url=links.traces_url(dashboard_url, finding, transition.time_ns),
                   example_urls=tuple(links.trace_url(dashboard_url, t) for t in finding.examples))

    @property
    def title(self) -> str:
        t = self.transition
        rule = RULES[t.rule]
        where = t.subject if rule.SUBJECT == "function" else f"queue {t.subject}"
        if t.finding.function and t.finding.function != t.subject:
            where += f" (function {t.finding.function})"
        return f"[{self.status}] {rule.TITLE} on {where}"

    @property
    def text(self) -> str:
        """The whole message as plain text: stdout, SNS's default body, Slack's notification line."""
        lines = [self.title, self.transition.finding.summary, f"Traces: {self.traces_url}"]
        lines += [f"Example trace: {url}" for url in self.example_urls]
        return "\n".join(lines)

    def payload(self) -> dict[str, Any]:
        """The JSON every machine consumer gets (webhook `alert`, SNS to SQS/Lambda/HTTP subscribers)."""
        t, f = self.transition, self.transition.finding
        return {"status": self.status, "rule": t.rule, "subject": t.subject, "function": f.function,
                "time": datetime.fromtimestamp(t.time_ns / 1e9, UTC).isoformat(), "time_ns": t.time_ns,
                "incident_ns": t.incident_ns, "from_state": t.from_state, "to_state": t.to_state,
                "summary": f.summary, "current": f.current, "baseline": f.baseline, "threshold": f.threshold,
                "unit": f.unit, "window_s": f.window_s, "counts": f.counts, "example_trace_ids": list(f.examples),
                "traces_url": self.traces_url, "example_urls": list(self.example_urls)}

    def slack(self) -> dict[str, Any]:
        examples = " · ".join(f"<{slack_escape(url)}|{slack_escape(tid[:8])}…>" for url, tid in zip(
            self.example_urls, self.transition.finding.examples, strict=True))
        context = f"<{slack_escape(self.traces_url)}|Open the traces in hoptrace>"
        if examples:
            context += f"  ·  examples: {examples}"
        return {
            "text": slack_escape(self.text),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": self.title[:150]}},
                {"type": "section", "text": {"type": "mrkdwn",
                                             "text": slack_escape(self.transition.finding.summary)[:3000]}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": context[:3000]}]},
            ],
            "alert": self.payload(),
        }


def slack_escape(text: str) -> str:
    """Text as Slack's message formatting takes it literally (its three control characters escaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
