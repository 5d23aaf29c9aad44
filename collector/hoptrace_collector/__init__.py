"""hoptrace's collector: what turns function logs (and OTLP) into a span store the dashboard reads.

Entry points:
- `hoptrace_collector.handler.handler`: Lambda handler for CloudWatch Logs subscriptions;
- `hoptrace_collector.dlq.handler`: scheduled DLQ watcher;
- `hoptrace_collector.otlp.server.serve_otlp` (`hoptrace collector serve-otlp`): OTLP/HTTP receiver;
- `hoptrace_collector.store.open_store(url)`: the stores (`sqlite://`, `dynamodb://`).

Runtime dependencies: the standard library, boto3 (DynamoDB store, DLQ watcher) and the layer's
standard-library modules (`hoptrace.wire`, `propagation`, `carriers`, `semconv`, `otlp`), never
the OpenTelemetry SDK.
"""
