"""The compressed form of a span line: `HOPTRACE z1:<base64 of raw deflate>`, opt-in (HOPTRACE_COMPRESS_LINES).

CloudWatch Logs bills every byte a function prints ($0.50 per GiB ingested), and the span lines are
most of what hoptrace costs on AWS: about 1.8 KB per invocation of JSON whose keys, attribute names
and ids repeat from span to span. Deflate started from a preset dictionary of the layer's own
vocabulary (the envelope, the span layout, the semantic-convention names it writes) and then base64
(CloudWatch events are text) makes a line about a third as long. The function pays for it in CPU:
a few microseconds per line (docs/cost.md, "Compressed span lines"), which on Lambda's per-millisecond billing is
far below a cent per million invocations, but is latency the default path does not add. Hence opt-in:
the plain JSON line stays the default, readable in the CloudWatch console and by older collectors.

The line is still wire v1: its body, once inflated, is exactly the JSON line's body. An older
collector that meets one counts it as a line that is not valid JSON (it never crashes on it), so the
collector is updated first. The digit after `z` names the dictionary, which therefore never changes:
a new one is a new entry in `DICTIONARIES`, and lines written with an old one keep reading.

Stdlib only (zlib, binascii), as `hoptrace.wire` is: the collector decodes with this module too.
"""

from __future__ import annotations

import binascii
import zlib

from hoptrace.wire import COMPRESSED_MARK

WBITS = -12  # raw deflate (no header or checksum: the line carries the dictionary's id), a 4 KiB window
LEVEL, MEM_LEVEL = 3, 5  # callgrind: level 3 is as cheap in CPU as 1 here, 8 % fewer bytes; 6 costs 1.5x
#: The most a compressed body may inflate to: a line's JSON is at most MAX_LINE_BYTES (200 KiB) as the
#: layer writes it, so anything far larger is not a span line but a decompression bomb.
MAX_INFLATED = 1024 * 1024

#: Dictionary 1, from the layer's own vocabulary only (hoptrace.semconv, hoptrace.engine.resource, the
#: span layout of hoptrace.wire), nothing from any deployment. Deflate codes nearer distances shorter,
#: so the text every line repeats (the envelope and the span skeleton) comes last. Never edit it.
DICTIONARY_1 = (
    b'"hoptrace.apigateway.api_id":"hoptrace.apigateway.stage":"hoptrace.apigateway.request_id":"'
    b'"hoptrace.alb.target_group":"hoptrace.batch_item_failures":"hoptrace.batch_item_failed":true,'
    b'"hoptrace.messaging.message_ids":["hoptrace.eventbridge.buses":["hoptrace.eventbridge.detail_types":['
    b'"hoptrace.eventbridge.sources":["hoptrace.eventbridge.event_ids":["hoptrace.eventbridge.failed_entries":'
    b'"hoptrace.lambda.invocation_type":"RequestResponse","hoptrace.lambda.function_error":"'
    b'"hoptrace.sfn.execution_arn":"arn:aws:states:"aws.step_functions.state_machine.arn":"'
    b'"faas.invoked_name":"faas.invoked_provider":"aws","faas.cron":"faas.document.collection":"'
    b'"faas.document.operation":"faas.document.name":"faas.document.time":"aws.kinesis.stream_name":"'
    b'"aws.dynamodb.table_names":["db.system.name":"aws.dynamodb","db.operation.name":"'
    b'"messaging.batch.message_count":"messaging.destination.partition.id":"hoptrace.sqs.receive_count":'
    b'"hoptrace.queue_wait_ms":"aws.sns.topic.arn":"arn:aws:sns:"aws.sqs.queue.url":"https://sqs.'
    b'.amazonaws.com/"url.query":"url.full":"https://"url.scheme":"https","server.address":"client.address":"'
    b'"http.request.header.","hoptrace.coldstart.proactive":true,"hoptrace.faas.alias":"'
    b'"hoptrace.upstream":"hoptrace.link.produced":"hoptrace.link.consumed":"'
    b'"exception.escaped":true,"error.type":"'
    b'"events":[{"name":"exception","time":'
    b'"attributes":{"exception.type":"exception.message":"exception.stacktrace":"Traceback (most recent call last):'
    b'\\n  File \\"/var/task/'
    b'"links":[{"trace_id":"'
    b'"status":{"code":"error","message":"'
    b'"http.request.method":"GET","http.request.method":"POST","http.route":"/","url.path":"/",'
    b'"user_agent.original":"","hoptrace.init_duration_ms":"hoptrace.init_type":"on-demand"'
    b'"messaging.system":"aws_sqs","messaging.operation.type":"process","messaging.destination.name":"'
    b'"messaging.system":"aws_sns","messaging.system":"aws_eventbridge",'
    b'"kind":"internal","kind":"consumer","kind":"server","name":"init ","name":"'
    b'"faas.trigger":"http","faas.trigger":"pubsub","faas.trigger":"datasource","faas.trigger":"timer",'
    b'"faas.trigger":"other","hoptrace.trigger":"apigateway","hoptrace.trigger":"sqs","hoptrace.trigger":"sns",'
    b'"hoptrace.trigger":"eventbridge","hoptrace.trigger":"dynamodb","hoptrace.trigger":"s3",'
    b'"hoptrace.trigger":"schedule","faas.time":"'
    b'"hoptrace.context_source":"none","hoptrace.context_source":"lambda-env","hoptrace.context_source":"'
    b'"rpc.system":"aws-api","rpc.service":"DynamoDB","rpc.method":"GetItem","rpc.method":"PutItem",'
    b'"rpc.method":"Query","rpc.service":"S3","rpc.method":"GetObject","rpc.method":"PutObject",'
    b'"rpc.service":"SNS","rpc.method":"Publish","rpc.service":"EventBridge","rpc.method":"PutEvents",'
    b'"rpc.service":"Lambda","rpc.method":"Invoke","rpc.service":"SFN","rpc.method":"StartExecution",'
    b'"name":"SQS.SendMessage","kind":"producer",'
    b'"rpc.system":"aws-api","rpc.service":"SQS","rpc.method":"SendMessage","cloud.region":"'
    b'"messaging.operation.type":"send","messaging.message.id":"'
    b'"aws.request_id":"","http.response.status_code":200'
    b'"cloud.resource_id":"arn:aws:lambda:us-east-1:","faas.invocation_id":"","cloud.account.id":"'
    b'"faas.coldstart":false}},{"trace_id":"'
    b'HOPTRACE {"v":1,"resource":{"telemetry.sdk.version":"0.1.0","cloud.region":"us-east-1",'
    b'"faas.max_memory":134217728},"spans":[{"trace_id":"'
    b'","span_id":"","parent_id":null,"name":"","kind":"client","start":17,"end":17,'
    b'"status":{"code":"unset"},"attributes":{"'
)
DICTIONARIES = {1: DICTIONARY_1}
CURRENT = 1
_HEAD = f"{COMPRESSED_MARK}{CURRENT}:"
_BY_HEAD = {f"{COMPRESSED_MARK}{number}": dictionary for number, dictionary in DICTIONARIES.items()}
_compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, WBITS, MEM_LEVEL, zlib.Z_DEFAULT_STRATEGY,
                               DICTIONARIES[CURRENT])


class InflateError(ValueError):
    """A compressed body that cannot be read; the message says why (the collector counts it)."""


def compress(body: str) -> str:
    """The compressed body for a JSON body (`{"v":1,...}`): `z1:` and base64 of its raw deflate.

    A copy of one compressor primed with the dictionary costs less than a new compressor per line."""
    compressor = _compressor.copy()
    data = compressor.compress(body.encode()) + compressor.flush()
    return _HEAD + binascii.b2a_base64(data, newline=False).decode("ascii")


def inflate(body: str) -> str:
    """The JSON body a compressed body was made from; raises InflateError, never anything else."""
    head, _, text = body.partition(":")
    dictionary = _BY_HEAD.get(head)
    if dictionary is None:
        raise InflateError(f"compressed span line with an unknown dictionary {head[:12]!r} "
                           f"(written by a newer hoptrace?)")
    try:
        blob = binascii.a2b_base64(text.strip().encode("ascii", "replace"), strict_mode=True)  # "\n" ends a log line
    except binascii.Error as exc:
        raise InflateError(f"compressed span line is not base64 ({exc})") from exc
    inflater = zlib.decompressobj(WBITS, zdict=dictionary)
    try:
        out = inflater.decompress(blob, MAX_INFLATED)
    except zlib.error as exc:
        raise InflateError(f"compressed span line does not inflate ({exc})") from exc
    if inflater.unconsumed_tail:
        raise InflateError(f"compressed span line inflates past {MAX_INFLATED:,} bytes")
    if not inflater.eof:
        raise InflateError("compressed span line is cut short")
    if inflater.unused_data:
        raise InflateError(f"compressed span line has {len(inflater.unused_data)} bytes after its end")
    try:
        return out.decode()
    except UnicodeDecodeError as exc:
        raise InflateError(f"compressed span line inflates to invalid UTF-8 at byte {exc.start}") from exc
