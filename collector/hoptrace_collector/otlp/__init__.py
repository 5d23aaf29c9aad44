"""The OTLP/HTTP receiver: any OpenTelemetry SDK or collector can send spans to the hoptrace store.

`decode` turns an `ExportTraceServiceRequest` (JSON or protobuf) into wire spans, which go
through the same validation and mapping as span lines from the logs (`ingest.records`);
`server` is the HTTP endpoint (`POST /v1/traces`).
"""
