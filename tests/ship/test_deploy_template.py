"""deploy/template.yaml: valid for cfn-lint, consistent with the code it deploys, least-privilege, and deployable.

We cannot reach AWS from here, so the template is checked three ways: by cfn-lint; against the code (the table is
the store's own definition, every handler module is in its function's code or layers, the subscription sends
the lines the collector reads and never the collector's own); and by deploying it into moto's CloudFormation
after running SAM's own translator (aws-sam-translator, which cfn-lint depends on) over it, as `sam deploy`
would have CloudFormation do.
"""

from __future__ import annotations

import ast
import copy
import io
import json
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hoptrace_cli.attachment import EXEC_WRAPPER, FILTER_PATTERN, HANDLER, WRAPPER_VARIABLE
from hoptrace_collector.store.dynamodb_table import TABLE_SCHEMA, TTL_ATTRIBUTE, cloudformation_properties
from hoptrace_localcloud.motoserver import client_factory
from hoptrace_localcloud.template import load_yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TEMPLATE = DEPLOY / "template.yaml"
STACK = "hoptrace"
REGION = "us-east-1"
ARTIFACTS = "hoptrace-artifacts"
# The built layer zip holds python/ built from layer/ (hoptrace layer build): its sources stand in for it here.
LAYER_SOURCES = {"../dist/layer/hoptrace-layer-0.1.0.zip": ROOT / "layer"}
# Actions AWS accepts only with `Resource: "*"`; any other statement must name its resources.
STAR_RESOURCE_ACTIONS = {"sqs:ListQueues"}
# Resource types moto's CloudFormation cannot create: left out of the moto deployment, checked statically above.
MOTO_UNSUPPORTED = {"AWS::Logs::AccountPolicy"}
HOPTRACE_FUNCTIONS = {"CollectorFunction", "DlqWatcherFunction", "AlertEvaluatorFunction"}


def template() -> dict[str, Any]:
    """The template as CloudFormation reads it (short-form tags become {"Ref": …}, {"Fn::Sub": …})."""
    return load_yaml(TEMPLATE.read_text())


def of_type(doc: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in doc["Resources"].items() if res["Type"] == kind}


def functions(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each AWS::Serverless::Function's properties with the Globals merged in (Layers are added, as SAM does)."""
    defaults = doc.get("Globals", {}).get("Function", {})
    merged = {}
    for lid, res in of_type(doc, "AWS::Serverless::Function").items():
        props = {**defaults, **res["Properties"]}
        props["Layers"] = [*defaults.get("Layers", []), *res["Properties"].get("Layers", [])]
        merged[lid] = props
    return merged


def test_cfn_lint_passes() -> None:
    cfn_lint = shutil.which("cfn-lint") or str(Path(sys.executable).with_name("cfn-lint"))
    result = subprocess.run([cfn_lint, str(TEMPLATE)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_span_table_is_the_stores_own_definition() -> None:
    table = template()["Resources"]["SpanTable"]
    assert table["Properties"] == cloudformation_properties({"Fn::Sub": "${AWS::StackName}-spans2"})


def test_every_function_imports_only_what_its_code_and_layers_hold() -> None:
    # The handler module must be there, and so must every first-party package the code imports: this is what
    # makes the collector need the hoptrace layer (hoptrace.wire) and the evaluator the CollectorPackageLayer.
    doc = template()
    layer_dirs = {lid: LAYER_SOURCES.get(res["Properties"]["ContentUri"], DEPLOY / res["Properties"]["ContentUri"])
                  for lid, res in of_type(doc, "AWS::Serverless::LayerVersion").items()}
    first_party = {"hoptrace", "hoptrace_collector", "hoptrace_alerts", "hoptrace_dashboard", "hoptrace_localcloud",
                   "hoptrace_cli"}
    assert set(functions(doc)) == HOPTRACE_FUNCTIONS
    for lid, props in functions(doc).items():
        code = DEPLOY / props["CodeUri"]
        roots = [code, *(layer_dirs[layer["Ref"]] for layer in props["Layers"])]
        module = props["Handler"].rsplit(".", 1)[0].replace(".", "/")
        assert any((r / f"{module}.py").is_file() or (r / module / "__init__.py").is_file() for r in roots), lid
        available = {p.name for r in roots for p in r.iterdir() if (p / "__init__.py").is_file()}
        imported = {name for source in code.rglob("*.py") for name in _imports(source)} & first_party
        assert imported <= available, (lid, imported - available)


def _imports(source: Path) -> set[str]:
    tree = ast.parse(source.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and not node.level}
    return {name.split(".")[0] for name in names}


def test_hoptrace_never_traces_itself() -> None:
    for lid, props in functions(template()).items():
        assert props["Handler"] != HANDLER, lid
        assert props.get("Environment", {}).get("Variables", {}).get(WRAPPER_VARIABLE) != EXEC_WRAPPER, lid


def test_the_account_subscription_sends_what_the_collector_reads_and_skips_hoptraces_own_logs() -> None:
    doc = template()
    policy = doc["Resources"]["AccountSubscription"]
    assert policy["Condition"] == "AccountSubscription"
    assert doc["Conditions"]["AccountSubscription"] == {"Fn::Equals": [{"Ref": "SubscriptionScope"}, "account"]}
    props = policy["Properties"]
    assert props["PolicyType"] == "SUBSCRIPTION_FILTER_POLICY"
    document = json.loads(props["PolicyDocument"]["Fn::Sub"])
    assert document == {"DestinationArn": "${CollectorFunction.Arn}", "FilterPattern": FILTER_PATTERN}
    # The only selection CloudWatch Logs allows for it: exact names, none of which may be a hoptrace function's.
    excluded = re.fullmatch(r"LogGroupName NOT IN \[(.*)\]", props["SelectionCriteria"]["Fn::Sub"])
    assert excluded
    groups = {json.loads(name)[2:-1] for name in excluded.group(1).split(", ")}
    log_groups = of_type(doc, "AWS::Logs::LogGroup")
    assert groups == set(log_groups)
    names = {res["Properties"]["LogGroupName"]["Fn::Sub"] for res in log_groups.values()}
    assert names == {"/aws/lambda/" + props["FunctionName"]["Fn::Sub"] for props in functions(doc).values()}
    permission = doc["Resources"]["CollectorInvokePermission"]
    assert permission["Condition"] == "AccountSubscription"
    assert permission["Properties"]["Principal"] == "logs.amazonaws.com"


def translate(doc: dict[str, Any], bucket: str) -> dict[str, Any]:
    """Plain CloudFormation from the SAM template, with every local CodeUri/ContentUri replaced by
    s3://bucket/<logical id>.zip (what `sam package` does with the built artifacts)."""
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}  # the template names no managed policies; SAM asks only to resolve those

    doc = copy.deepcopy(doc)
    for lid, res in doc["Resources"].items():
        for key in ("CodeUri", "ContentUri"):
            if key in res.get("Properties", {}):
                res["Properties"][key] = f"s3://{bucket}/{lid}.zip"
    return transform(doc, {}, NoManagedPolicies())


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", REGION)  # the translator resolves AWS::Region for its ARNs
        return translate(template(), ARTIFACTS)


def test_no_iam_statement_has_a_wildcard_action(translated: dict[str, Any]) -> None:
    statements = list(_statements(translated))
    assert len(statements) > 6  # the three roles, plus what SAM generated for the schedules
    for where, statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not [a for a in actions if "*" in a], where
        if statement.get("Resource") == "*" or "*" in (statement.get("Resource") or []):
            assert set(actions) <= STAR_RESOURCE_ACTIONS, (where, actions)


def _statements(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for lid, res in doc["Resources"].items():
        if res["Type"] == "AWS::IAM::Role":
            for policy in res["Properties"].get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield f"{lid}/{policy['PolicyName']}", statement
            assert not res["Properties"].get("ManagedPolicyArns"), f"{lid}: managed policies are not least privilege"
        elif res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for statement in res["Properties"]["PolicyDocument"]["Statement"]:
                yield lid, statement


@pytest.mark.e2e
def test_the_stack_deploys_into_motos_cloudformation(translated: dict[str, Any], moto_endpoint: str) -> None:
    from moto.cloudformation.parsing import resource_class_from_type

    aws = client_factory(moto_endpoint, REGION)
    s3 = aws("s3")
    s3.create_bucket(Bucket=ARTIFACTS)
    for lid in template()["Resources"]:
        s3.put_object(Bucket=ARTIFACTS, Key=f"{lid}.zip", Body=_placeholder_zip())
    doc = copy.deepcopy(translated)
    skipped = {lid: res["Type"] for lid, res in doc["Resources"].items() if not resource_class_from_type(res["Type"])}
    assert set(skipped.values()) == MOTO_UNSUPPORTED  # a new type moto cannot create shows up here
    for lid in skipped:
        del doc["Resources"][lid]

    cfn = aws("cloudformation")
    cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(doc), Capabilities=["CAPABILITY_IAM"],
                     Parameters=[{"ParameterKey": "RetentionDays", "ParameterValue": "7"},
                                 {"ParameterKey": "SampleRate", "ParameterValue": "0.25"}])
    stack = _wait(cfn)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    store_url = f"dynamodb://{STACK}-spans2?region={REGION}&ttl_days=7"
    assert outputs["StoreUrl"] == store_url and outputs["TableName"] == f"{STACK}-spans2"
    assert outputs["CollectorArn"].endswith(f":function:{STACK}-collector")
    assert outputs["TracedFunctionVariables"] == "HOPTRACE_SAMPLE_RATE=0.25"

    table = aws("dynamodb").describe_table(TableName=f"{STACK}-spans2")["Table"]
    assert table["KeySchema"] == TABLE_SCHEMA["KeySchema"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert not table.get("GlobalSecondaryIndexes")  # layout 2 has no index
    # moto creates tables from CloudFormation without their TTL: the template's TTL is checked statically
    # (test_the_span_table_is_the_stores_own_definition) and create_table's in tests/collector.
    assert translated["Resources"]["SpanTable"]["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": TTL_ATTRIBUTE, "Enabled": True}

    deployed = {f["FunctionName"]: f for f in aws("lambda").list_functions()["Functions"]}
    variables = {name: f.get("Environment", {}).get("Variables", {}) for name, f in deployed.items()}
    assert variables[f"{STACK}-collector"] == {"HOPTRACE_STORE": store_url}
    assert variables[f"{STACK}-dlq-watcher"] == {"HOPTRACE_STORE": store_url, "HOPTRACE_DLQ_URLS": ""}
    assert variables[f"{STACK}-alerts"] == {
        "HOPTRACE_STORE": store_url, "HOPTRACE_ALERT_RULES": "", "HOPTRACE_ALERT_WEBHOOK_URL": "",
        "HOPTRACE_ALERT_TOPIC_ARN": outputs["AlertsTopicArn"], "HOPTRACE_DASHBOARD_URL": "http://127.0.0.1:8501"}
    handlers = {name: f["Handler"] for name, f in deployed.items()}
    assert handlers == {f"{STACK}-collector": "hoptrace_collector.handler.handler",
                        f"{STACK}-dlq-watcher": "hoptrace_collector.dlq.handler",
                        f"{STACK}-alerts": "hoptrace_alerts.handler.handler"}
    assert {f["Runtime"] for f in deployed.values()} == {"python3.12"}
    # moto drops Layers and Architectures of CloudFormation-made functions; the translated template has them.
    layers = {lid: res["Properties"]["Layers"] for lid, res in translated["Resources"].items()
              if res["Type"] == "AWS::Lambda::Function"}
    assert all(len(refs) == (2 if lid == "AlertEvaluatorFunction" else 1) for lid, refs in layers.items()), layers
    rules = aws("events").list_rules()["Rules"]
    assert sorted(r["ScheduleExpression"] for r in rules) == ["rate(1 minute)", "rate(1 minute)"]
    groups = {g["logGroupName"] for g in aws("logs").describe_log_groups()["logGroups"]}
    assert {f"/aws/lambda/{name}" for name in deployed} <= groups


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", "")
    return buffer.getvalue()


def _wait(cfn: Any, timeout_s: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
        if not stack["StackStatus"].endswith("IN_PROGRESS") or time.monotonic() > deadline:
            return stack
        time.sleep(0.2)
