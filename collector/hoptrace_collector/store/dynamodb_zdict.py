"""The preset zlib dictionary of span group items (dynamodb_groups), frozen: stored items name it by id.

DynamoDB bills a write per started KB, and a typical invocation's group is just under 1 KB: the
fixed text every group repeats (the body's keys, the resource hoptrace's layer writes, the
attribute names and values of its spans) costs zlib the most in a small item, where it has seen
nothing yet. Starting the stream from this dictionary makes that text a few back references
(the most common last: deflate codes nearer distances shorter).

zlib writes the dictionary's Adler-32 in the stream's header, and readers pick the dictionary
by it (`inflate`), so this text must never change: a new dictionary is a new constant added to
`BY_ID`, and the items written with an old one keep reading. Streams written without one (every
item before this existed) read as they always did.
"""

from __future__ import annotations

import zlib

#: Version 1. Built from the layer's own vocabulary (hoptrace.semconv, hoptrace.engine.resource, the
#: group body's row shape), nothing from any one deployment; do not edit (see the module doc).
GROUPS_V1 = (
    b'"hoptrace.apigateway.api_id":"hoptrace.apigateway.stage":"hoptrace.apigateway.request_id":"'
    b'"hoptrace.alb.target_group":"hoptrace.batch_item_failures":"hoptrace.context_problems":['
    b'"hoptrace.messaging.message_ids":["hoptrace.eventbridge.buses":["hoptrace.eventbridge.detail_types":['
    b'"hoptrace.eventbridge.sources":["hoptrace.eventbridge.event_ids":["hoptrace.eventbridge.failed_entries":'
    b'"hoptrace.lambda.invocation_type":"RequestResponse","hoptrace.lambda.function_error":"'
    b'"faas.invoked_name":"faas.invoked_provider":"aws","faas.cron":"faas.time":"faas.document.collection":"'
    b'"faas.document.operation":"faas.document.name":"faas.document.time":"aws.kinesis.stream_name":"'
    b'"aws.dynamodb.table_names":["db.system.name":"db.operation.name":"retry_attempts":'
    b'"messaging.batch.message_count":"messaging.destination.partition.id":"messaging.kafka.offset":'
    b'"messaging.consumer.group.name":"aws.sns.topic.arn":"arn:aws:sns:"aws.sqs.queue.url":"https://sqs.'
    b'.amazonaws.com/"url.query":"url.full":"https://"url.scheme":"https","server.address":"client.address":"'
    b'"http.request.header.","hoptrace.coldstart.proactive":true,"hoptrace.faas.alias":"'
    b'"exception.escaped":true,"error.type":"'
    b'{"name":"exception","time":"attributes":{"exception.type":"exception.message":"'
    b'"exception.stacktrace":"Traceback (most recent call last):\\n  File \\"'
    b'"ok","error","producer","consumer","internal","server","client",'
    b'"http.request.method":"GET","http.request.method":"POST","http.route":"/","url.path":"/",'
    b'"user_agent.original":"","hoptrace.init_duration_ms":"faas.coldstart":true,'
    b'"messaging.system":"aws_sqs","messaging.operation.type":"process","messaging.destination.name":"'
    b'"messaging.message.id":"'
    b'{"hoptrace.init_type":"on-demand"},"init ",'
    b'"faas.trigger":"http","faas.trigger":"pubsub","faas.trigger":"datasource","faas.trigger":"timer",'
    b'"faas.trigger":"other","hoptrace.trigger":"apigateway","hoptrace.trigger":"sqs","hoptrace.trigger":"sns",'
    b'"hoptrace.trigger":"eventbridge","hoptrace.trigger":"dynamodb","hoptrace.trigger":"s3",'
    b'"hoptrace.context_source":"none","hoptrace.context_source":"'
    b'"faas.invocation_id":"","cloud.account.id":"","cloud.resource_id":"arn:aws:lambda:'
    b':function:","faas.coldstart":false," invocation",'
    b'"rpc.system":"aws-api","rpc.service":"DynamoDB","rpc.method":"GetItem","rpc.method":"PutItem",'
    b'"rpc.method":"Query","rpc.service":"S3","rpc.method":"GetObject","rpc.service":"SNS",'
    b'"rpc.method":"Publish","rpc.service":"SQS","rpc.method":"SendMessage","rpc.service":"EventBridge",'
    b'"rpc.method":"PutEvents","rpc.service":"Lambda","rpc.method":"Invoke",'
    b'"cloud.region":"us-east-1","cloud.region":"eu-west-1","aws.request_id":"",'
    b'"http.response.status_code":200},0,0,0,"layer",0,'
    b'{"b":,"n":["],"r":[{"aws.log.group.names":"/aws/lambda/","cloud.platform":"aws_lambda",'
    b'"cloud.provider":"aws","cloud.region":"","faas.instance":"/[$LATEST]","faas.max_memory":'
    b',"faas.name":"","faas.version":"$LATEST","service.name":"","telemetry.sdk.language":"python",'
    b'"telemetry.sdk.name":"hoptrace","telemetry.sdk.version":"0.1.0"}],"s":[["'
    b'",null,"","client",,"unset","",0,0,null,0,null,{"rpc.system":"aws-api","rpc.service":"'
    b'","rpc.method":"","cloud.region":"","aws.request_id":"'
    b'","http.response.status_code":200},0,0,0,"layer",0,'
)
GROUPS_V1_ID = zlib.adler32(GROUPS_V1)
#: Every dictionary a stored group may have been written with, by the id zlib's header carries.
BY_ID = {GROUPS_V1_ID: GROUPS_V1}
#: The dictionary new groups are written with.
CURRENT = GROUPS_V1


def deflate(body: bytes) -> bytes:
    """`body` as a zlib stream (level 9) started from the current dictionary."""
    compressor = zlib.compressobj(9, zdict=CURRENT)
    return compressor.compress(body) + compressor.flush()


def inflate(blob: bytes) -> bytes:
    """A zlib stream written with any dictionary in BY_ID, or with none (older items)."""
    if len(blob) < 6 or not blob[1] & 0x20:  # FDICT unset: a plain stream
        return zlib.decompress(blob)
    dictionary = BY_ID.get(int.from_bytes(blob[2:6], "big"))
    if dictionary is None:
        raise ValueError(f"span group compressed with an unknown dictionary {blob[2:6].hex()}: "
                         f"written by a newer hoptrace?")
    inflater = zlib.decompressobj(zdict=dictionary)
    return inflater.decompress(blob) + inflater.flush()
