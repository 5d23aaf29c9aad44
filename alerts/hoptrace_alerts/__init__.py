"""hoptrace alerts: rules over the span store, an evaluator that runs on a schedule, notifications.

The evaluator (`hoptrace_alerts.handler.handler`) runs as a Lambda function, so everything it
imports is stdlib, boto3 and `hoptrace_collector.store`; the CLI and the dashboard read the same
state through `hoptrace_alerts.view`.
"""
