"""The SAM -> CloudFormation seam (unit): local artifacts swapped and mapped back, Globals CodeUri, InlineCode,
local includes, origins of generated ids, renamed layers, SAM's errors, the translation cache and NoEcho."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoptrace_localcloud.samtranslate import TranslationError, local_artifact, origin_of, translate
from hoptrace_localcloud.template import load_yaml

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Secret: {Type: String, Default: s3cr3t}
Globals:
  Function: {CodeUri: src/, Runtime: python3.13, Handler: app.handler}
Resources:
  Q: {Type: AWS::SQS::Queue}
  Layer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layer/}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Layers: [!Ref Layer]
      Events:
        Work: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn}}
  Inline:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: !Ref AWS::NoValue
      InlineCode: "def handler(e, c): return 1"
      Handler: index.handler
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefinitionBody:
        Fn::Transform: {Name: AWS::Include, Parameters: {Location: api.yaml}}
"""


@pytest.fixture()
def app(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "layer").mkdir()
    (tmp_path / "api.yaml").write_text("openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n"
                                       "    get:\n      x-amazon-apigateway-integration: {type: mock}\n")
    return tmp_path


def test_translation_maps_everything_back(app: Path, tmp_path: Path):
    doc = load_yaml(TEMPLATE)
    doc["Resources"]["Inline"]["Properties"].pop("CodeUri")
    result = translate(doc, {}, app, "us-east-1", tmp_path / "cache")
    resources = result.document["Resources"]
    assert local_artifact(result, resources["Fn"]["Properties"]["Code"]) == (app / "src").resolve()
    assert resources["Inline"]["Properties"]["Code"] == {"ZipFile": "def handler(e, c): return 1"}
    assert resources["FnWork"]["Type"] == "AWS::Lambda::EventSourceMapping"
    assert origin_of(result, "FnWork") == "Fn.Events.Work"
    layer_id = result.renamed["Layer"]
    assert local_artifact(result, resources[layer_id]["Properties"]["Content"]) == (app / "layer").resolve()
    assert origin_of(result, layer_id) == "Layer"
    assert "/x" in resources["Api"]["Properties"]["Body"]["paths"]
    assert doc["Resources"]["Fn"]["Properties"].get("CodeUri") is None  # the input is not mutated


def test_the_cache_answers_the_second_translation_and_noecho_is_never_written(app: Path, tmp_path: Path):
    doc = load_yaml(TEMPLATE)
    doc["Resources"]["Inline"]["Properties"].pop("CodeUri")
    cache = tmp_path / "cache"
    first = translate(doc, {}, app, "us-east-1", cache)
    assert len(list(cache.glob("*.json"))) == 1
    assert oct(next(cache.glob("*.json")).stat().st_mode & 0o777) == "0o600"
    assert translate(doc, {}, app, "us-east-1", cache).document == first.document
    doc["Parameters"]["Secret"]["NoEcho"] = True
    translate(doc, {}, app, "us-east-1", tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_sams_own_errors_are_one_line(app: Path, tmp_path: Path):
    doc = load_yaml("Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
                    "    Properties: {CodeUri: src/, Runtime: python3.13, Handler: a.b, Events: {E: {Type: SQS,"
                    " Properties: {}}}}\n")
    with pytest.raises(TranslationError) as raised:
        translate(doc, {}, app, "us-east-1", None)
    assert "Fn" in str(raised.value) and "\n" not in str(raised.value)


def test_policy_templates_are_built_once_per_process_and_still_resolve(tmp_path: Path) -> None:
    from samtranslator.translator import translator as sam_translator

    template = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Q: {Type: AWS::SQS::Queue}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Runtime: python3.13
      Handler: app.handler
      Policies: [{SQSSendMessagePolicy: {QueueName: !GetAtt Q.QueueName}}]
"""
    (tmp_path / "src").mkdir()
    document = load_yaml(template)
    first = translate(document, {}, tmp_path, "us-east-1", None).document
    plugin = sam_translator.make_policy_template_for_function_plugin()
    second = translate(document, {}, tmp_path, "us-east-1", None).document
    assert sam_translator.make_policy_template_for_function_plugin() is plugin  # built (and validated) once
    assert first == second
    [policy] = second["Resources"]["FnRole"]["Properties"]["Policies"]
    assert policy["PolicyDocument"]["Statement"][0]["Action"] == ["sqs:SendMessage*"]
