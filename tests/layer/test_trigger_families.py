"""Every AWS event family through the layer: recognised, named, kinded and attributed as OTel expects.

The fixtures in tests/events/ are AWS's own sample shapes (`sam local generate-event`, the AWS
documentation, Powertools' AWS-authored events). Each goes through the real wrapper and the
written span is checked, not only the trigger module's return value.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from hoptrace import links
from hoptrace.config import Config
from hoptrace.triggers import detect
from hoptrace.wrapper import wrap
from tests.conftest import LambdaContext, load_event
from tests.layer.spans import invocation_span, run

TP_TRACE = "5759e988bd862e3fe1be46a994272793"
TP_SPAN = "53995c3f42cd8ad8"

# fixture -> (trigger, span name, kind, faas.trigger, attributes the span must carry)
FAMILIES: dict[str, tuple[str, str, str, str, dict[str, Any]]] = {
    "s3": ("s3", "process lambda-artifacts-deafc19498e3f2df", "consumer", "datasource",
           {"faas.document.collection": "lambda-artifacts-deafc19498e3f2df", "faas.document.operation": "insert",
            "messaging.system": "aws_s3"}),
    "s3_eventbridge": ("s3_eventbridge", "process example-bucket", "consumer", "datasource",
                       {"aws.s3.bucket": "example-bucket", "aws.s3.key": "IMG_m7fzo3.jpg",
                        "faas.document.operation": "insert"}),
    "s3_sqs": ("sqs", "process payments-queue", "consumer", "pubsub", {"messaging.system": "aws_sqs"}),
    "s3_sns": ("sns", "process orders-topic", "consumer", "pubsub", {"messaging.system": "aws_sns"}),
    "s3_batch_operations": ("s3_batch", "s3 batch f3cc4f60-61f6-4a2b-8a21-d07600c373ce", "consumer", "datasource",
                            {"hoptrace.s3_batch.job_id": "f3cc4f60-61f6-4a2b-8a21-d07600c373ce"}),
    "s3_object_lambda": ("s3_object_lambda", "GetObject myolap", "server", "datasource", {"url.path": "/s3.txt"}),
    "dynamodb_stream": ("dynamodb", "process ExampleTableWithStream", "consumer", "datasource",
                        {"faas.document.collection": "ExampleTableWithStream", "messaging.batch.message_count": 2,
                         "aws.dynamodb.table_names": ["ExampleTableWithStream"]}),
    "kinesis": ("kinesis", "process lambda-stream", "consumer", "pubsub",
                {"messaging.system": "aws_kinesis", "messaging.destination.name": "lambda-stream",
                 "messaging.batch.message_count": 2}),
    "firehose_kinesis": ("firehose", "transform delivery-stream-name", "consumer", "pubsub",
                         {"messaging.system": "aws_firehose"}),
    "kafka_msk": ("kafka", "process mytopic", "consumer", "pubsub",
                  {"messaging.system": "kafka", "hoptrace.kafka.source": "msk"}),
    "kafka_self_managed": ("kafka", "process mytopic", "consumer", "pubsub",
                           {"messaging.system": "kafka", "hoptrace.kafka.source": "self-managed"}),
    "activemq": ("activemq", "process testQueue", "consumer", "pubsub", {"messaging.system": "activemq"}),
    "rabbitmq": ("rabbitmq", "process pizzaQueue", "consumer", "pubsub", {"messaging.system": "rabbitmq"}),
    "ses": ("ses", "receive email", "consumer", "pubsub", {"messaging.system": "aws_ses"}),
    "cognito_pre_signup": ("cognito", "cognito PreSignUp_SignUp", "server", "other",
                           {"hoptrace.operation": "PreSignUp_SignUp"}),
    "apigateway_authorizer_token": ("apigateway_authorizer", "authorize GET /", "server", "http",
                                    {"hoptrace.authorizer.type": "TOKEN"}),
    "apigateway_authorizer_request": ("apigateway_authorizer", "authorize GET /request", "server", "http",
                                      {"hoptrace.authorizer.type": "REQUEST", "http.route": "/request"}),
    "apigateway_authorizer_v2": ("apigateway_authorizer", "authorize POST /merchants", "server", "http",
                                 {"hoptrace.authorizer.type": "REQUEST",
                                  "hoptrace.authorizer.payload_version": "2.0"}),
    "apigateway_websocket": ("apigateway_websocket", "websocket chat", "server", "http",
                             {"hoptrace.websocket.connection_id": "BFaT_fALIAMCKug=", "hoptrace.operation": "MESSAGE"}),
    "vpc_lattice": ("vpc_lattice", "GET /testpath", "server", "http",
                    {"hoptrace.vpc_lattice.payload_version": "1.0", "client.address": "10.213.229.10"}),
    "vpc_lattice_v2": ("vpc_lattice", "GET /newpath", "server", "http",
                       {"hoptrace.vpc_lattice.payload_version": "2.0"}),
    "cloudfront_viewer_request": ("cloudfront", "viewer-request GET /", "server", "http",
                                  {"hoptrace.cloudfront.distribution_id": "EDFDVBD6EXAMPLE"}),
    "appsync_resolver": ("appsync", "graphql Mutation.createSomething", "server", "http",
                         {"rpc.method": "Mutation.createSomething"}),
    "appsync_authorizer": ("appsync_authorizer", "authorize graphql MyNewTask", "server", "http",
                           {"hoptrace.authorizer.type": "APPSYNC", "rpc.method": "MyNewTask"}),
    "cloudformation_custom_resource": ("cloudformation", "Create SeedOrdersTable", "server", "other",
                                       {"hoptrace.cloudformation.resource_type": "Custom::MyType"}),
    "secrets_manager_rotation": ("secrets_manager", "rotate MyTestDatabaseSecret-a1b2c3 createSecret", "server",
                                 "other", {"hoptrace.operation": "createSecret"}),
    "aws_config_rule": ("aws_config", "config rule MyRule", "server", "datasource",
                        {"hoptrace.operation": "ConfigurationItemChangeNotification"}),
    "codepipeline_job": ("codepipeline", "codepipeline job 11111111-abcd-1111-abcd-111111abcdef", "server", "other",
                         {}),
    "codecommit": ("codecommit", "codecommit my-repo", "consumer", "datasource",
                   {"hoptrace.codecommit.refs": ["refs/heads/main"]}),
    "codedeploy_hook": ("codedeploy", "codedeploy hook d-ABCDEF123", "server", "other", {}),
    "iot_custom_authorizer": ("iot", "iot authorize", "server", "other", {}),
    "iot_registry_event": ("iot", "iot THING_EVENT", "consumer", "pubsub", {"hoptrace.iot.thing": "MyThing"}),
    "cloudwatch_alarm": ("cloudwatch_alarm", "alarm Test alert", "consumer", "pubsub", {"hoptrace.operation": "ALARM"}),
    "lex_v2": ("lex", "lex BookTrip BookHotel", "server", "other", {}),
    "connect_contact_flow": ("connect", "connect contact flow", "server", "other",
                             {"hoptrace.connect.channel": "VOICE"}),
    "bedrock_agent": ("bedrock_agent", "agent OrdersActionGroup GET /orders/{id}", "server", "other", {}),
    "stepfunctions_status_change": ("eventbridge", "process Step Functions Execution Status Change", "consumer",
                                    "pubsub", {}),
    "stepfunctions_task": ("stepfunctions", "orders", "server", "other",
                           {"hoptrace.sfn.state": "ChargePayment", "hoptrace.sfn.retry_count": 1,
                            "aws.step_functions.state_machine.arn":
                                "arn:aws:states:us-east-1:123456789012:stateMachine:OrderSaga"}),
}


def echo(event: Any, context: Any) -> Any:
    return {"seen": json.dumps(event, default=str)[:64]}


@pytest.mark.parametrize("fixture", sorted(FAMILIES))
def test_each_family_is_traced_with_its_name_kind_and_attributes(fixture: str) -> None:
    trigger, name, kind, faas_trigger, expected = FAMILIES[fixture]
    # GIVEN an AWS sample event / WHEN a traced handler receives it
    _result, raised, spans, _ = run(wrap(echo), load_event(fixture), LambdaContext())
    # THEN the invocation span says which service called, as OpenTelemetry names it
    assert raised is None
    span = invocation_span(spans)
    assert (span["name"], span["kind"]) == (name, kind)
    attributes = span["attributes"]
    assert attributes["hoptrace.trigger"] == trigger and attributes["faas.trigger"] == faas_trigger
    for key, value in expected.items():
        assert attributes[key] == value, key


def test_every_fixture_file_has_an_expected_family_or_an_older_test() -> None:
    from tests.conftest import all_event_names

    older = {"alb", "apigateway_v1", "apigateway_v1_malformed", "apigateway_v2", "cloudwatch_logs", "direct_invoke",
             "eventbridge", "function_url", "scheduled", "sns", "sqs", "sqs_bad_headers", "sqs_eventbridge",
             "sqs_mixed_batch", "sqs_sns_envelope", "sqs_sns_raw", "sqs_ten_attributes", "sqs_xray_only"}
    assert set(all_event_names()) - older - set(FAMILIES) == set()


def test_request_authorizer_is_not_traced_as_the_api_request() -> None:
    # GIVEN a REQUEST authorizer event, which carries the request's method, path and headers
    invocation = detect(load_event("apigateway_authorizer_request"), LambdaContext(), Config())
    # THEN it is an authorizer span inside the caller's trace, not the API's `GET /request`
    assert invocation.trigger == "apigateway_authorizer" and not invocation.is_http
    assert invocation.parent is not None and f"{invocation.parent.trace_id:032x}" == TP_TRACE
    assert "authorizationToken" not in json.dumps(invocation.attributes)
    assert "user1,123" not in json.dumps(invocation.attributes)


@pytest.mark.parametrize("fixture", ["kafka_msk", "activemq", "rabbitmq"])
def test_broker_records_continue_the_producers_trace_from_headers(fixture: str) -> None:
    _result, _raised, spans, _ = run(wrap(echo), load_event(fixture), LambdaContext())
    span = invocation_span(spans)
    assert span["trace_id"] == TP_TRACE and span["parent_id"] == TP_SPAN
    assert span["attributes"]["hoptrace.context_source"].split(".")[0] == fixture.split("_")[0]


@pytest.mark.parametrize(("fixture", "failed"), [
    ("kinesis", "49590338271490256608559692540925702759324208523137515618"),
    ("dynamodb_stream", "222"),
])
def test_stream_partial_batch_failures_mark_the_failed_record(fixture: str, failed: str) -> None:
    # GIVEN a stream batch whose handler reports one sequence number as failed
    def handler(event: Any, context: Any) -> Any:
        return {"batchItemFailures": [{"itemIdentifier": failed}]}

    _result, _raised, spans, _ = run(wrap(handler), load_event(fixture), LambdaContext())
    records = [s for s in spans if s["name"].startswith("process ") and "faas.coldstart" not in s["attributes"]]
    # THEN one process span per record; the failed one is an error, the other is not
    assert len(records) == 2
    by_id = {s["attributes"]["messaging.message.id"]: s for s in records}
    assert by_id[failed]["status"]["code"] == "error"
    assert by_id[failed]["attributes"]["hoptrace.batch_item_failed"] is True
    assert [s["status"]["code"] for k, s in by_id.items() if k != failed] != ["error"]
    # AND the invocation says what Lambda does with a shard: it retries from the lowest failed record on
    assert invocation_span(spans)["status"]["message"] == (f"1 of 2 records failed: the handler returned {failed} "
                                                           f"in batchItemFailures; Lambda retries the shard from "
                                                           f"{failed} (1 record)")


def test_stream_records_carry_the_keys_their_writer_also_computes() -> None:
    invocation = detect(load_event("dynamodb_stream"), LambdaContext(), Config())
    insert = invocation.records[0].attributes["hoptrace.link.consumed"]
    # The PutItem that wrote the item and an UpdateItem on its key compute these same keys.
    assert links.dynamodb_item("ExampleTableWithStream", {"Message": {"S": "New item!"}, "Id": {"N": "101"}}) in insert
    assert links.dynamodb_item("ExampleTableWithStream", {"Id": {"N": "101"}}) in insert
    kinesis = detect(load_event("kinesis"), LambdaContext(), Config())
    assert kinesis.records[0].attributes["hoptrace.link.consumed"] == [
        links.kinesis_record("lambda-stream", "49590338271490256608559692538361571095921575989136588898")]


@pytest.mark.parametrize("fixture", ["s3", "s3_sqs", "s3_sns"])
def test_s3_notifications_link_to_the_object_version_wherever_they_arrive(fixture: str) -> None:
    invocation = detect(load_event(fixture), LambdaContext(), Config())
    [record] = invocation.records
    expected = links.s3_object("lambda-artifacts-deafc19498e3f2df", "b21b84d653bb07b05b1e6b33684dc11b",
                               '"b21b84d653bb07b05b1e6b33684dc11b"')
    assert record.attributes["hoptrace.link.consumed"] == [expected]
    assert record.attributes["aws.s3.bucket"] == "lambda-artifacts-deafc19498e3f2df"


def test_s3_keys_are_url_decoded_before_linking() -> None:
    event = load_event("s3")
    event["Records"][0]["s3"]["object"]["key"] = "invoices/order+42%2Fa.pdf"
    [record] = detect(event, LambdaContext(), Config()).records
    assert record.attributes["aws.s3.key"] == "invoices/order 42/a.pdf"
    assert record.attributes["hoptrace.link.consumed"] == [
        links.s3_object("lambda-artifacts-deafc19498e3f2df", "invoices/order 42/a.pdf",
                        "b21b84d653bb07b05b1e6b33684dc11b")]


@pytest.mark.parametrize("fixture", ["codepipeline_job", "iot_custom_authorizer", "cognito_pre_signup",
                                     "appsync_authorizer", "apigateway_authorizer_token",
                                     "cloudformation_custom_resource", "ses"])
def test_credentials_and_personal_data_in_events_are_never_written(fixture: str) -> None:
    _result, _raised, _spans, text = run(wrap(echo), load_event(fixture), LambdaContext(), )
    for secret in ("wJalrXUtnFEMI", "AKIAIOSFODNN7EXAMPLE", "bXlQYXNzd29yZA==", "aToken", "user@example.com",
                   "+12065550100", "cloudformation-custom-resource-response", "janedoe@example.com", '"allow"',
                   "BE9DC5E3-D410", "createTask"):
        assert secret not in text.replace(json.dumps(echo(load_event(fixture), None)), "")


def _hostile(event: Any) -> list[Any]:
    """Each family's event with its parts swapped for wrong types, one at a time."""
    variants = []
    if isinstance(event, dict):
        for key in event:
            for junk in (None, 7, "x", [], {}, [None], {"a": None}):
                bad = copy.deepcopy(event)
                bad[key] = junk
                variants.append(bad)
    return variants


@pytest.mark.parametrize("fixture", sorted(FAMILIES))
def test_hostile_variants_never_break_detection(fixture: str) -> None:
    event = load_event(fixture)
    records = event.get("Records") if isinstance(event, dict) else None
    variants = _hostile(event)
    if isinstance(records, list) and records and isinstance(records[0], dict):
        for bad_record in _hostile(records[0]):
            variants.append({**event, "Records": [bad_record]})
    for variant in variants:
        detect(variant, LambdaContext(), Config())
