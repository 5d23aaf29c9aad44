"""Attribute names, in one place so no module types a convention name as a literal.

OpenTelemetry semantic conventions where one exists (faas, cloud, http, url, messaging,
rpc); `hoptrace.*` for what the conventions do not cover yet (queue wait, the source of
the parent context, trigger kind).
"""

# faas / cloud
FAAS_TRIGGER = "faas.trigger"
FAAS_INVOCATION_ID = "faas.invocation_id"
FAAS_COLDSTART = "faas.coldstart"
FAAS_NAME = "faas.name"
FAAS_VERSION = "faas.version"
FAAS_MAX_MEMORY = "faas.max_memory"
FAAS_INSTANCE = "faas.instance"
FAAS_CRON = "faas.cron"
FAAS_TIME = "faas.time"
CLOUD_PROVIDER = "cloud.provider"
CLOUD_PLATFORM = "cloud.platform"
CLOUD_REGION = "cloud.region"
CLOUD_ACCOUNT_ID = "cloud.account.id"
CLOUD_RESOURCE_ID = "cloud.resource_id"
SERVICE_NAME = "service.name"
TELEMETRY_SDK_NAME = "telemetry.sdk.name"
TELEMETRY_SDK_VERSION = "telemetry.sdk.version"
TELEMETRY_SDK_LANGUAGE = "telemetry.sdk.language"

# http / url
HTTP_METHOD = "http.request.method"
HTTP_ROUTE = "http.route"
HTTP_STATUS = "http.response.status_code"
HTTP_REQUEST_HEADER = "http.request.header."
URL_PATH = "url.path"
URL_QUERY = "url.query"
URL_FULL = "url.full"
URL_SCHEME = "url.scheme"
SERVER_ADDRESS = "server.address"
CLIENT_ADDRESS = "client.address"
USER_AGENT = "user_agent.original"

# messaging
MESSAGING_SYSTEM = "messaging.system"
MESSAGING_OPERATION = "messaging.operation.type"
MESSAGING_DESTINATION = "messaging.destination.name"
MESSAGING_MESSAGE_ID = "messaging.message.id"
MESSAGING_BATCH_COUNT = "messaging.batch.message_count"

# exceptions (span events)
EXCEPTION_TYPE = "exception.type"
EXCEPTION_MESSAGE = "exception.message"
EXCEPTION_STACKTRACE = "exception.stacktrace"

# hoptrace's own
TRIGGER = "hoptrace.trigger"
CONTEXT_SOURCE = "hoptrace.context_source"
INIT_DURATION_MS = "hoptrace.init_duration_ms"
INIT_TYPE = "hoptrace.init_type"
QUEUE_WAIT_MS = "hoptrace.queue_wait_ms"
RECEIVE_COUNT = "hoptrace.sqs.receive_count"
EVENTBRIDGE_SOURCE = "hoptrace.eventbridge.source"
EVENTBRIDGE_DETAIL_TYPE = "hoptrace.eventbridge.detail_type"
EVENT_PAYLOAD = "hoptrace.event.payload"
RESPONSE_PAYLOAD = "hoptrace.response.payload"
BATCH_ITEM_FAILED = "hoptrace.batch_item_failed"
PENDING = "hoptrace.pending"  # written by the timeout watchdog before the invocation ended
