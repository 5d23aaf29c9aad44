"""`hoptrace attach` / `hoptrace detach` against moto's server: a round trip leaves a function exactly as
it was, a dry run changes nothing, attaching twice changes nothing the second time, and every refusal
names the function and the reason while the other functions go on."""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from typing import Any

import pytest

from hoptrace_cli.attachment import (
    EXEC_WRAPPER,
    FILTER_PATTERN,
    HANDLER,
    AttachError,
    AttachOptions,
    FunctionState,
    plan_attach,
    plan_detach,
    render,
)
from hoptrace_cli.main import main
from hoptrace_localcloud.motoserver import DUMMY_CREDENTIALS, client_factory

REGION = "us-east-1"
# What Lambda itself changes on every update; everything else must come back as it was.
VOLATILE = {"LastModified", "RevisionId", "ResponseMetadata"}
_names = itertools.count()


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


class Account:
    """The moto account the tests build functions, layers and a collector in."""

    def __init__(self, endpoint: str) -> None:
        make = client_factory(endpoint, REGION)
        self.endpoint = endpoint
        self.lambda_, self.logs = make("lambda"), make("logs")
        self.role = make("iam").create_role(RoleName="hoptrace-test", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("app.py", "def handler(event, context):\n    return event\n")
        self.code = buffer.getvalue()
        self.layer = self.publish_layer("hoptrace-py312")
        self.collector = self.create("collector")["FunctionArn"]

    def publish_layer(self, name: str) -> str:
        return self.lambda_.publish_layer_version(LayerName=name, Content={"ZipFile": self.code})["LayerVersionArn"]

    def create(self, prefix: str, runtime: str = "python3.12", **extra: Any) -> dict[str, Any]:
        handler = "app.handler" if runtime.startswith("python") else "index.handler"
        return self.lambda_.create_function(FunctionName=f"{prefix}-{next(_names)}", Runtime=runtime, Role=self.role,
                                            Handler=handler, Code={"ZipFile": self.code}, **extra)

    def snapshot(self, name: str) -> tuple[dict[str, Any], dict[str, str], list[dict[str, Any]]]:
        config = self.lambda_.get_function_configuration(FunctionName=name)
        tags = self.lambda_.list_tags(Resource=config["FunctionArn"])["Tags"]
        try:
            filters = self.logs.describe_subscription_filters(logGroupName=f"/aws/lambda/{name}")["subscriptionFilters"]
        except self.logs.exceptions.ResourceNotFoundException:
            filters = []
        return {key: value for key, value in config.items() if key not in VOLATILE}, tags, filters

    def attach(self, *arguments: str, collector: bool = True) -> int:
        extra = ["--collector-arn", self.collector] if collector else []
        return main(["attach", "--layer-arn", self.layer, *extra, *self.where(), *arguments])

    def detach(self, *arguments: str) -> int:
        return main(["detach", *self.where(), *arguments])

    def where(self) -> list[str]:
        return ["--endpoint-url", self.endpoint, "--region", REGION]


@pytest.fixture(scope="module")
def account(moto_endpoint: str) -> Account:
    return Account(moto_endpoint)


@pytest.mark.parametrize("mode", ["handler", "exec-wrapper"])
def test_attach_then_detach_leaves_the_function_exactly_as_before(account: Account, mode: str,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a function with its own layer, variables and tags
    other_layer = account.publish_layer("shared-utils")
    name = account.create("orders", Layers=[other_layer], Environment={"Variables": {"TABLE": "orders", "X": "1"}},
                          Tags={"team": "shop"})["FunctionName"]
    before = account.snapshot(name)
    # WHEN it is attached
    assert account.attach("--function", name, "--mode", mode) == 0
    # THEN the layer is added after its own, the redirect set, the variables kept, the filter created
    config, tags, filters = account.snapshot(name)
    assert [layer["Arn"] for layer in config["Layers"]] == [other_layer, account.layer]
    variables = config["Environment"]["Variables"]
    if mode == "handler":
        assert config["Handler"] == HANDLER
        assert variables == {"TABLE": "orders", "X": "1", "HOPTRACE_HANDLER": "app.handler"}
    else:
        assert config["Handler"] == "app.handler"
        assert variables == {"TABLE": "orders", "X": "1", "AWS_LAMBDA_EXEC_WRAPPER": EXEC_WRAPPER}
    assert tags["team"] == "shop" and tags["hoptrace:mode"] == mode
    assert [(f["filterName"], f["filterPattern"], f["destinationArn"]) for f in filters] == [
        ("hoptrace", FILTER_PATTERN, account.collector)]
    policy = json.loads(account.lambda_.get_policy(FunctionName=account.collector)["Policy"])
    assert [s["Principal"] for s in policy["Statement"]] == [{"Service": "logs.amazonaws.com"}]
    # WHEN a detach is only planned, nothing changes; then it is detached
    attached = account.snapshot(name)
    assert account.detach("--function", name, "--dry-run") == 0
    assert account.snapshot(name) == attached and "would detach" in capsys.readouterr().out
    assert account.detach("--function", name) == 0
    # THEN configuration, tags and subscriptions are what they were
    assert account.snapshot(name) == before
    assert "detached" in capsys.readouterr().out


def test_dry_run_prints_the_diff_and_changes_nothing(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a plain function
    name = account.create("dry")["FunctionName"]
    before = account.lambda_.get_function_configuration(FunctionName=name)
    # WHEN attach runs with --dry-run
    assert account.attach("--function", name, "--dry-run") == 0
    # THEN it shows before → after for handler, layers, variables and the log group
    out = capsys.readouterr().out
    assert f"{name} (python3.12, x86_64): would attach" in out
    assert f"Handler      app.handler → {HANDLER}" in out
    assert f"+ {account.layer}" in out and "+ HOPTRACE_HANDLER=app.handler" in out
    assert f"/aws/lambda/{name}: create; + subscription filter 'hoptrace'" in out
    # AND nothing changed: not even the revision, the tags or the log group
    after = account.lambda_.get_function_configuration(FunctionName=name)
    assert {k: v for k, v in after.items() if k != "ResponseMetadata"} == {
        k: v for k, v in before.items() if k != "ResponseMetadata"}
    assert account.lambda_.list_tags(Resource=before["FunctionArn"])["Tags"] == {}
    assert not account.logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]


def test_attaching_twice_changes_nothing_the_second_time(account: Account,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN an attached function (one without any environment variables)
    name = account.create("twice")["FunctionName"]
    before = account.snapshot(name)
    assert account.attach("--function", name) == 0
    attached = account.lambda_.get_function_configuration(FunctionName=name)
    capsys.readouterr()
    # WHEN it is attached again
    assert account.attach("--function", name) == 0
    # THEN it says so and makes no update at all (same LastModified)
    assert f"{name} (python3.12, x86_64): already attached" in capsys.readouterr().out
    again = account.lambda_.get_function_configuration(FunctionName=name)
    assert again["LastModified"] == attached["LastModified"] and again["Handler"] == HANDLER
    # AND a later detach still restores it as it was
    assert account.detach("--function", name) == 0
    assert account.snapshot(name) == before


def test_all_with_tag_selects_matching_functions_and_skips_non_python(account: Account,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN two functions of team=pay (Python and Node.js) and one of another team
    python = account.create("pay-py", Tags={"team": "pay"})["FunctionName"]
    node = account.create("pay-js", runtime="nodejs20.x", Tags={"team": "pay"})["FunctionName"]
    other = account.create("other", Tags={"team": "ops"})["FunctionName"]
    node_before, other_before = account.snapshot(node), account.snapshot(other)
    # WHEN attaching every team=pay function
    assert account.attach("--all-with-tag", "team=pay", collector=False) == 0
    # THEN the Python one is attached, the Node.js one skipped with a reason, the other team untouched
    out = capsys.readouterr().out
    assert f"{python} (python3.12, x86_64): attached" in out
    assert f"{node} (nodejs20.x, x86_64): skipped: runtime nodejs20.x is not Python" in out
    assert other not in out
    assert account.lambda_.get_function_configuration(FunctionName=python)["Handler"] == HANDLER
    assert account.snapshot(node) == node_before and account.snapshot(other) == other_before


def test_the_collector_is_never_subscribed_to_itself(account: Account, capsys: pytest.CaptureFixture[str]) -> None:
    name = account.collector.rsplit(":", 1)[1]
    before = account.snapshot(name)
    assert account.attach("--function", name) == 0
    assert "skipped: this is the collector" in capsys.readouterr().out
    assert account.snapshot(name) == before


def test_the_five_layer_limit_is_a_clear_error_and_other_functions_go_on(account: Account,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a function that already has five layers, a missing function, and a plain function
    full = account.create("full", Layers=[account.publish_layer(f"extra-{i}") for i in range(5)])["FunctionName"]
    plain = account.create("plain")["FunctionName"]
    full_before = account.snapshot(full)
    # WHEN all three are attached
    code = account.attach("--function", full, "--function", "no-such-function", "--function", plain)
    # THEN the run fails, naming each failed function and why, and changes nothing on the full one
    assert code == 1
    err = capsys.readouterr().err
    assert f"{full}: FAILED: it already has 5 layers, Lambda's maximum of 5" in err
    assert "no-such-function: FAILED: function not found" in err
    assert account.snapshot(full) == full_before
    # AND the plain function was attached all the same
    assert account.lambda_.get_function_configuration(FunctionName=plain)["Handler"] == HANDLER


def test_a_layer_version_that_does_not_exist_stops_before_any_function(account: Account,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    name = account.create("nolayer")["FunctionName"]
    before = account.snapshot(name)
    missing = account.layer.rsplit(":", 1)[0] + ":99"
    assert main(["attach", "--layer-arn", missing, "--function", name, *account.where()]) == 2
    assert "layer version not found" in capsys.readouterr().err
    assert account.snapshot(name) == before


def test_a_layer_built_for_another_architecture_is_refused(account: Account,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    name = account.create("x86")["FunctionName"]
    arm = account.lambda_.publish_layer_version(LayerName="hoptrace-py312-arm64", Content={"ZipFile": account.code},
                                                CompatibleRuntimes=["python3.12"],
                                                CompatibleArchitectures=["arm64"])["LayerVersionArn"]
    before = account.snapshot(name)
    assert main(["attach", "--layer-arn", arm, "--function", name, *account.where()]) == 1
    assert f"{name}: FAILED: the layer is built for arm64, the function runs on x86_64" in capsys.readouterr().err
    assert account.snapshot(name) == before


def test_detach_of_a_function_never_attached_changes_nothing(account: Account,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    name = account.create("never")["FunctionName"]
    before = account.snapshot(name)
    assert account.detach("--function", name) == 0
    assert "not attached by hoptrace attach" in capsys.readouterr().out
    assert account.snapshot(name) == before


# Decisions that need no AWS: the plan alone.

def _state(variables: dict[str, str] | None = None, layers: tuple[str, ...] = (), tags: dict[str, str] | None = None,
           handler: str = "app.handler") -> FunctionState:
    config = {"FunctionName": "f", "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
              "Runtime": "python3.12", "Handler": handler, "Layers": [{"Arn": arn} for arn in layers],
              "Architectures": ["x86_64"], "Environment": {"Variables": variables or {}}}
    return FunctionState(config, tags or {})


LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:hoptrace:2"


def test_a_new_layer_version_replaces_the_one_attach_added_in_place() -> None:
    old = "arn:aws:lambda:us-east-1:123456789012:layer:hoptrace:1"
    other = "arn:aws:lambda:us-east-1:123456789012:layer:utils:4"
    state = _state({"HOPTRACE_HANDLER": "app.handler"}, (old, other), handler=HANDLER,
                   tags={"hoptrace:mode": "handler", "hoptrace:layer": old, "hoptrace:original-handler": "app.handler"})
    plan = plan_attach(state, AttachOptions(LAYER))
    assert plan.layers == ([old, other], [LAYER, other])
    assert plan.tags_set == {"hoptrace:layer": LAYER} and plan.handler is None and plan.variables is None


@pytest.mark.parametrize(("state", "mode", "message"), [
    (_state({"AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-instrument"}), "exec-wrapper", "another wrapper"),
    (_state({"HOPTRACE_HANDLER": "x.y"}), "handler", "HOPTRACE_HANDLER is already set"),
    (_state(layers=("arn:aws:lambda:us-east-1:123456789012:layer:hoptrace:1",)), "handler",
     "another version of this layer"),
    (_state(tags={"hoptrace:mode": "handler"}), "exec-wrapper", "detach` first"),
])
def test_attach_refuses_what_it_could_not_undo(state: FunctionState, mode: str, message: str) -> None:
    with pytest.raises(AttachError, match=message):
        plan_attach(state, AttachOptions(LAYER, mode))


def test_unreadable_encrypted_variables_are_never_overwritten() -> None:
    state = _state()
    state.config["Environment"] = {"Error": {"ErrorCode": "AccessDenied", "Message": "KMS key not usable"}}
    with pytest.raises(AttachError, match="would drop them all"):
        plan_attach(state, AttachOptions(LAYER))


def test_detach_keeps_a_handler_changed_through_hoptrace_handler_since_attach() -> None:
    tags = {"hoptrace:mode": "handler", "hoptrace:layer": LAYER, "hoptrace:original-handler": "app.handler"}
    state = _state({"HOPTRACE_HANDLER": "app.new_handler"}, (LAYER,), handler=HANDLER, tags=tags)
    plan = plan_detach(state)
    assert plan.handler == (HANDLER, "app.new_handler") and plan.layers == ([LAYER], [])


@pytest.mark.parametrize(("logging_config", "warned"), [
    ({"LogFormat": "JSON", "SystemLogLevel": "WARN"}, True),
    ({"LogFormat": "JSON", "SystemLogLevel": "INFO"}, False),
    ({"LogFormat": "JSON"}, False),
    ({"LogFormat": "Text", "LogGroup": "/aws/lambda/f"}, False),
])
def test_a_system_log_level_that_drops_platform_lines_is_warned_with_the_fix(logging_config: dict[str, str],
                                                                             warned: bool) -> None:
    state = _state()
    state.config["LoggingConfig"] = logging_config
    plan = plan_attach(state, AttachOptions(LAYER))
    text = render(plan, state, dry_run=True)
    assert ("warning: LoggingConfig.SystemLogLevel is WARN" in text) is warned
    if warned:
        assert "--logging-config LogFormat=JSON,SystemLogLevel=INFO" in text and "would attach" in text
