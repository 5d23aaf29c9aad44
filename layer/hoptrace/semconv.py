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
MESSAGING_PARTITION = "messaging.destination.partition.id"
MESSAGING_KAFKA_OFFSET = "messaging.kafka.offset"
MESSAGING_CONSUMER_GROUP = "messaging.consumer.group.name"

# data sources (faas.trigger=datasource) and AWS services
FAAS_DOCUMENT_COLLECTION = "faas.document.collection"
FAAS_DOCUMENT_OPERATION = "faas.document.operation"
FAAS_DOCUMENT_NAME = "faas.document.name"
FAAS_DOCUMENT_TIME = "faas.document.time"
AWS_S3_BUCKET = "aws.s3.bucket"
AWS_S3_KEY = "aws.s3.key"
AWS_DYNAMODB_TABLE_NAMES = "aws.dynamodb.table_names"
AWS_KINESIS_STREAM = "aws.kinesis.stream_name"

# rpc / AWS SDK client spans
RPC_SYSTEM = "rpc.system"
RPC_SERVICE = "rpc.service"
RPC_METHOD = "rpc.method"
AWS_REQUEST_ID = "aws.request_id"
AWS_RETRY_ATTEMPTS = "retry_attempts"  # the name botocore's OpenTelemetry instrumentation writes
ERROR_TYPE = "error.type"
AWS_SQS_QUEUE_URL = "aws.sqs.queue.url"
AWS_SNS_TOPIC_ARN = "aws.sns.topic.arn"
AWS_LAMBDA_INVOCATION_TYPE = "hoptrace.lambda.invocation_type"
AWS_LAMBDA_FUNCTION_ERROR = "hoptrace.lambda.function_error"
FAAS_INVOKED_NAME = "faas.invoked_name"
FAAS_INVOKED_PROVIDER = "faas.invoked_provider"
DB_SYSTEM = "db.system.name"
DB_OPERATION = "db.operation.name"
MESSAGE_IDS = "hoptrace.messaging.message_ids"  # every id a batch send got back, for producer->consumer links
EVENTBRIDGE_BUSES = "hoptrace.eventbridge.buses"
EVENTBRIDGE_DETAIL_TYPES = "hoptrace.eventbridge.detail_types"
EVENTBRIDGE_SOURCES = "hoptrace.eventbridge.sources"
EVENTBRIDGE_EVENT_IDS = "hoptrace.eventbridge.event_ids"
EVENTBRIDGE_FAILED = "hoptrace.eventbridge.failed_entries"

# exceptions (span events)
EXCEPTION_TYPE = "exception.type"
EXCEPTION_MESSAGE = "exception.message"
EXCEPTION_STACKTRACE = "exception.stacktrace"

# hoptrace's own
TRIGGER = "hoptrace.trigger"
CONTEXT_SOURCE = "hoptrace.context_source"
INIT_DURATION_MS = "hoptrace.init_duration_ms"
INIT_TYPE = "hoptrace.init_type"
CONTEXT_PROBLEMS = "hoptrace.context_problems"  # why a carried trace context was not used
BATCH_ITEM_FAILURES = "hoptrace.batch_item_failures"
APIGATEWAY_API_ID = "hoptrace.apigateway.api_id"
APIGATEWAY_STAGE = "hoptrace.apigateway.stage"
APIGATEWAY_REQUEST_ID = "hoptrace.apigateway.request_id"
ALB_TARGET_GROUP = "hoptrace.alb.target_group"
AWS_LOG_GROUP_NAMES = "aws.log.group.names"
EXCEPTION_ESCAPED = "exception.escaped"
COLDSTART_PROACTIVE = "hoptrace.coldstart.proactive"  # init done long before the first request: not its cost
FAAS_ALIAS = "hoptrace.faas.alias"  # the alias the function was invoked through (cloud.resource_id is unqualified)
INIT_IMPORT_MODULE = "hoptrace.init.module"  # cold-start anatomy: the module an `import` span timed
QUEUE_WAIT_MS = "hoptrace.queue_wait_ms"
RECEIVE_COUNT = "hoptrace.sqs.receive_count"
EVENTBRIDGE_SOURCE = "hoptrace.eventbridge.source"
EVENTBRIDGE_DETAIL_TYPE = "hoptrace.eventbridge.detail_type"
EVENT_PAYLOAD = "hoptrace.event.payload"
RESPONSE_PAYLOAD = "hoptrace.response.payload"
BATCH_ITEM_FAILED = "hoptrace.batch_item_failed"
S3_ETAG = "hoptrace.s3.etag"
S3_VERSION_ID = "hoptrace.s3.version_id"
S3_EVENT_NAME = "hoptrace.s3.event_name"
DYNAMODB_EVENT_NAME = "hoptrace.dynamodb.event_name"
KINESIS_PARTITION_KEY = "hoptrace.kinesis.partition_key"
UPSTREAM = "hoptrace.upstream"
EVENT_SOURCE = "hoptrace.event_source"  # the AWS resource (ARN or name) that invoked the function
OPERATION = "hoptrace.operation"  # what the trigger asked for (a Cognito trigger source, a CFN RequestType)
AUTHORIZER_TYPE = "hoptrace.authorizer.type"
# Producer -> consumer joins where AWS carries no context (see hoptrace.links): a producer span
# lists the keys of what it wrote, a consumer span the keys of what it read; the collector pairs them.
LINK_PRODUCED = "hoptrace.link.produced"
LINK_CONSUMED = "hoptrace.link.consumed"
PENDING = "hoptrace.pending"  # written by the timeout watchdog before the invocation ended
# Written by the layer when an invocation's output passed HOPTRACE_MAX_OUTPUT_BYTES (see hoptrace.output)
OUTPUT_TRUNCATED = "hoptrace.output.truncated"
OUTPUT_DROPPED_EVENTS = "hoptrace.output.dropped_events"
OUTPUT_CUT_ATTRIBUTES = "hoptrace.output.cut_attributes"
OUTPUT_DROPPED_SPANS = "hoptrace.output.dropped_spans"
OUTPUT_DROPPED_BYTES = "hoptrace.output.dropped_bytes"

# Step Functions (OpenTelemetry's aws.step_functions.* where it has a name)
SFN_STATE_MACHINE_ARN = "aws.step_functions.state_machine.arn"
SFN_EXECUTION_ARN = "hoptrace.sfn.execution_arn"
SFN_EXECUTION_STATUS = "hoptrace.sfn.execution_status"
SFN_STATE_NAME = "hoptrace.sfn.state"
SFN_STATE_TYPE = "hoptrace.sfn.state_type"
SFN_RETRY_COUNT = "hoptrace.sfn.retry_count"
SFN_RESOURCE = "hoptrace.sfn.resource"
SFN_ERROR = "hoptrace.sfn.error"
SFN_COMPENSATION = "hoptrace.sfn.compensation"  # a state reached through a Catch

# Names other senders write that the dashboard reads too (OpenTelemetry's botocore instrumentation
# on the SDK engine, older messaging conventions), and the collector's platform verdict.
AWS_QUEUE_URL_OLD = "aws.queue_url"
MESSAGING_DESTINATION_OLD = "messaging.destination"
PLATFORM_OUTCOME = "hoptrace.platform.outcome"

# Trigger names: the `hoptrace.trigger` values the layer writes and the dashboard and alerts read.
# Each trigger module's NAME is one of these (tests/test_vocabulary.py checks both ways).
TRIGGER_APIGATEWAY = "apigateway"
TRIGGER_APIGATEWAY_HTTP = "apigateway_http"
TRIGGER_FUNCTION_URL = "function_url"
TRIGGER_ALB = "alb"
TRIGGER_SQS = "sqs"
TRIGGER_SNS = "sns"
TRIGGER_EVENTBRIDGE = "eventbridge"
TRIGGER_S3 = "s3"
TRIGGER_S3_EVENTBRIDGE = "s3_eventbridge"
TRIGGER_DYNAMODB = "dynamodb"
TRIGGER_KINESIS = "kinesis"
TRIGGER_FIREHOSE = "firehose"
TRIGGER_KAFKA = "kafka"
TRIGGER_ACTIVEMQ = "activemq"
TRIGGER_RABBITMQ = "rabbitmq"
TRIGGER_SES = "ses"
TRIGGER_INVOKE = "invoke"
TRIGGER_SCHEDULE = "schedule"
TRIGGER_CLOUDWATCH_LOGS = "cloudwatch_logs"
TRIGGER_STEPFUNCTIONS = "stepfunctions"
TRIGGER_OTHER = "other"  # faas.trigger's value for anything OpenTelemetry has no name for
