"""A broken template is refused by `hoptrace local` with one line naming the file, the place and the fix — before
any process starts, never with a traceback or a made-up value that fails later."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hoptrace_localcloud.template import TemplateError, load_template
from hoptrace_localcloud.template_checks import samtranslator_error

from ..cli_run import assert_one_line_error, hoptrace

FUNCTION = """
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.13
"""


def _template(tmp_path: Path, resources: str, head: str = "") -> Path:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return event\n")
    path = tmp_path / "template.yaml"
    path.write_text("Transform: AWS::Serverless-2016-10-31\n" + textwrap.dedent(head) + "Resources:\n"
                    + textwrap.indent(textwrap.dedent(resources), "  "))
    return path


BAD = {
    "yaml syntax": ("Q:\n  Type: AWS::SQS::Queue\n Properties: {}\n", ["template.yaml:5:", "YAML syntax error"]),
    "unknown tag": ("Q:\n  Type: AWS::SQS::Queue\n  Properties: {QueueName: !GetAttt X.Y}\n",
                    ["template.yaml:5:", "unknown tag !GetAttt", "!GetAtt"]),
    "getatt missing": ("Q:\n  Type: AWS::SQS::Queue\nFn:\n  Type: AWS::Serverless::Function\n  Properties:\n"
                       "    CodeUri: src/\n    Handler: app.handler\n    Events:\n      Jobs:\n        Type: SQS\n"
                       "        Properties: {Queue: !GetAtt Missing.Arn}\n",
                       ["resource Fn", "Events.Jobs.Properties.Queue", "!GetAtt Missing.Arn", "define Missing"]),
    "ref missing": ("Q:\n  Type: AWS::SQS::Queue\n  Properties: {RedrivePolicy: {deadLetterTargetArn: !Ref Dlqq}}\n"
                    "Dlq:\n  Type: AWS::SQS::Queue\n",
                    ["resource Q", "!Ref Dlqq", "did you mean Dlq?"]),
    "sub missing": ("Q:\n  Type: AWS::SQS::Queue\n  Properties: {QueueName: !Sub '${Nope}-q'}\n",
                    ["resource Q", "${Nope}"]),
    "unknown type": ("Q:\n  Type: AWS::SQS::Queeue\n", ["resource Q", "'AWS::SQS::Queeue'", "AWS::SQS::Queue"]),
    "no type": ("Q:\n  Properties: {}\n", ["resource Q has no Type"]),
    "missing codeuri": (FUNCTION.replace("src/", "nowhere/"), ["function Fn", "CodeUri 'nowhere/'", "does not exist"]),
    "missing handler module": (FUNCTION.replace("app.handler", "orders.handler"),
                               ["function Fn", "Handler 'orders.handler'", "orders.py"]),
    "no handler": (FUNCTION.replace("      Handler: app.handler\n", ""), ["function Fn has no Handler"]),
    "undefined condition": ("Q:\n  Type: AWS::SQS::Queue\n  Condition: IsProd\n", ["condition 'IsProd'"]),
    "sam refuses": (FUNCTION + "      Events:\n        Jobs: {Type: SQS, Properties: {BatchSize: 5}}\n",
                    ["SAM cannot translate the template", "[FnJobs] is invalid", "Missing required property 'Queue'"]),
    "depends on missing": ("Q:\n  Type: AWS::SQS::Queue\n  DependsOn: Other\n", ["DependsOn 'Other'"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_hoptrace_local_refuses_a_broken_template_in_one_line(tmp_path, case):
    # GIVEN a template with one kind of mistake
    resources, fragments = BAD[case]
    path = _template(tmp_path, resources)
    # WHEN `hoptrace local` is run on it
    proc = hoptrace("local", "--template", str(path), "--port", "0", timeout=60)
    # THEN it exits 2 with one line naming the file, the place and the fix, before starting anything
    line = assert_one_line_error(proc, "hoptrace local:", str(path), *fragments)
    assert "running" not in proc.stdout
    assert len(line) < 400


def test_good_forms_are_not_refused(tmp_path):
    # GIVEN references SAM resolves itself (implicit role and API), pseudo parameters, Sub variables and layers
    path = _template(tmp_path, FUNCTION + """
  Other:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: in_layer.handler
      Layers: [!Ref Shared]
      Environment:
        Variables:
          ROLE: !GetAtt FnRole.Arn
          API: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}"
          LOCAL: !Sub ["${X}-q", {X: !Ref Fn}]
          LITERAL: !Sub "${!NotAVariable}"
          VENDOR: !Ref Vendor
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: src/}
  Vendor:
    Type: Datadog::Monitors::Monitor
  Custom:
    Type: Custom::Thing
""", head="Parameters:\n  Stage: {Type: String, Default: dev}\n")
    # WHEN it is loaded THEN nothing is refused
    template = load_template(path)
    assert set(template.resources) == {"Fn", "Other", "Shared", "Vendor", "Custom"}


def test_several_problems_name_the_first_and_count_the_rest(tmp_path):
    path = _template(tmp_path, "Q:\n  Type: AWS::SQS::Queue\n  Properties: {A: !Ref X, B: !Ref Y, C: !Ref Z}\n")
    with pytest.raises(TemplateError, match=r"!Ref X .*\(and 2 more problems\)$"):
        load_template(path)


def test_samtranslator_document_errors_become_one_line(tmp_path):
    # GIVEN a SAM document samtranslator itself refuses
    from samtranslator.model.exceptions import InvalidDocumentException, InvalidResourceException

    exc = InvalidDocumentException([InvalidResourceException("Fn", "Property 'Events' should be a map.\n Fix it.")])
    # WHEN it is turned into a TemplateError THEN it is one line naming the file and samtranslator's cause
    message = str(samtranslator_error(tmp_path / "template.yaml", exc))
    assert "\n" not in message
    assert message.startswith(f"{tmp_path / 'template.yaml'}: SAM cannot translate the template: Resource with id "
                              "[Fn] is invalid.")
    assert "Property 'Events' should be a map. Fix it." in message
