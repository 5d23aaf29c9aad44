"""The service map as a Graphviz graph (Streamlit lays it out in the browser; no JavaScript of ours).

Functions are boxes; the topics, queues, buses, tables and APIs between them have their own
shapes. Each edge says what crossed it: calls, error rate and p95 latency (and the p95 time
spent waiting in a queue where the layer measured it). Names come from the traced system,
so they are escaped for DOT's quoted strings and never read as markup.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd

from hoptrace_dashboard.display import duration

SHAPES = {"function": "box", "topic": "hexagon", "queue": "cds", "bus": "parallelogram", "table": "cylinder",
          "bucket": "folder", "api": "invhouse", "schedule": "ellipse", "service": "ellipse"}
FILLS = {"function": "#e3ecf7", "topic": "#fde9d9", "queue": "#fdf3d0", "bus": "#e6f2e1", "table": "#ece3f0",
         "bucket": "#ece3f0", "api": "#e1f0f0", "schedule": "#f0f0f0", "service": "#f0f0f0"}
ERROR_RATE_RED = 0.05


def quote(text: object) -> str:
    """A DOT quoted string showing `text` literally (Graphviz would read `\\n`, `\\l`… escapes otherwise)."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def edge_label(row: pd.Series) -> str:
    """What crossed the edge: calls (a queue → function edge: invocations, i.e. batches), or, for a delivery
    into a queue, messages (each once, however often it was received), which is why the two can differ."""
    count = int(row["calls"])
    unit = row.get("unit", "calls")
    if count == 1:
        unit = {"calls": "call", "messages": "message"}.get(unit, unit)
    parts = [f"{count} {unit}", f"{100 * row['error_rate']:.1f}% errors", f"p95 {duration(row['p95_ms'])}"]
    if pd.notna(row["p95_wait_ms"]):
        parts.append(f"queue wait p95 {duration(row['p95_wait_ms'])}")
    return "\\n".join(quote(p)[1:-1] for p in parts)


def dot(edges: pd.DataFrame, common_params: dict[str, str] | None = None) -> str:
    """The graph of `queries.service_edges`; function nodes link to that function's traces."""
    # Top to bottom: a request's path is longer than it is wide, so the graph keeps readable text at page width.
    lines = ["digraph hoptrace {", '  rankdir=TB; bgcolor="transparent"; nodesep=0.5; ranksep=0.55;',
             '  node [fontname="Helvetica", fontsize=13, style="filled,rounded", color="#5b6b7f", penwidth=1.2];',
             '  edge [fontname="Helvetica", fontsize=10, color="#7f8c9d", arrowsize=0.7];']
    nodes: dict[str, tuple[str, str]] = {}
    for _, row in edges.iterrows():
        nodes.setdefault(row["source"], (row["source_kind"], row["source_label"]))
        nodes.setdefault(row["target"], (row["target_kind"], row["target_label"]))
    for key, (kind, label) in sorted(nodes.items()):
        extra = ""
        if kind == "function":
            href = "./traces?" + urlencode({**(common_params or {}), "function": label})
            extra = f', URL={quote(href)}, target="_self", tooltip={quote("open the traces of " + label)}'
        lines.append(f"  {quote(key)} [label={quote(label)}, shape={SHAPES.get(kind, 'box')}, "
                     f"fillcolor={quote(FILLS.get(kind, '#ffffff'))}{extra}];")
    most = max(edges["calls"].max(), 1) if not edges.empty else 1
    red = ', color="#d62728", fontcolor="#d62728"'
    for _, row in edges.iterrows():
        width = 1 + 3 * (row["calls"] / most)
        lines.append(f"  {quote(row['source'])} -> {quote(row['target'])} [label=\"{edge_label(row)}\", "
                     f"penwidth={width:.2f}{red if row['error_rate'] >= ERROR_RATE_RED else ''}];")
    lines.append("}")
    return "\n".join(lines)
