"""Turning what functions log into store records: one small module per job.

`payload` decodes a CloudWatch Logs subscription event and sorts its log events,
`records` maps wire spans onto `SpanRecord`, `platform` reads the Lambda platform lines,
`failures` builds the failed span of a timed-out or crashed invocation, `parts` joins
split span lines, `problems` counts what was malformed, and `batch` runs them in order.
"""
