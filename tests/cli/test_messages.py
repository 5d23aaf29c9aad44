"""Raw library errors become one line saying what to do: missing AWS credentials or region, exposing a server
without a token, a port in use, an unexpected error — non-zero exit, no traceback."""

from __future__ import annotations

import errno
import socket
import sys
import types

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from hoptrace_cli import errors, main

from ..cli_run import assert_one_line_error, hoptrace

LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:hoptrace:1"
NO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
    "AWS_CONFIG_FILE": "/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
    "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "",
}


@pytest.fixture
def no_aws(monkeypatch):
    for key in NO_CREDENTIALS:
        monkeypatch.delenv(key, raising=False)
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key, raising=False)
    return {k: v for k, v in NO_CREDENTIALS.items() if v}


@pytest.mark.parametrize("command", [["attach", "--layer-arn", LAYER], ["detach"]])
def test_attach_and_detach_without_credentials_say_how_to_provide_them(no_aws, command):
    proc = hoptrace(*command, "--function", "orders", "--region", "us-east-1", env=no_aws)
    assert_one_line_error(proc, f"hoptrace {command[0]}: no AWS credentials found", "AWS_ACCESS_KEY_ID",
                          "AWS_PROFILE", "--profile", "aws configure")
    assert "Unable to locate credentials" not in proc.stderr


def test_attach_without_a_region_says_how_to_give_one(no_aws):
    proc = hoptrace("attach", "--layer-arn", LAYER, "--function", "orders", env=no_aws)
    assert_one_line_error(proc, "hoptrace attach: no AWS region", "--region", "AWS_REGION")


def test_dashboard_exposed_without_a_token_refuses_before_starting(tmp_path, monkeypatch):
    monkeypatch.delenv("HOPTRACE_DASHBOARD_TOKEN", raising=False)
    store = tmp_path / "spans.db"
    store.touch()
    proc = hoptrace("dashboard", "--store", str(store), "--host", "0.0.0.0", "--port", "0")
    assert_one_line_error(proc, "hoptrace dashboard: --host 0.0.0.0", "--token", "HOPTRACE_DASHBOARD_TOKEN")
    assert "starting" not in proc.stdout + proc.stderr


def test_otlp_receiver_exposed_without_a_token_refuses_before_creating_the_store(tmp_path, monkeypatch):
    monkeypatch.delenv("HOPTRACE_OTLP_TOKEN", raising=False)
    store = tmp_path / "spans.db"
    proc = hoptrace("collector", "serve-otlp", "--host", "0.0.0.0", "--port", "0", "--store", str(store))
    assert_one_line_error(proc, "hoptrace collector serve-otlp:", "without a token", "--token")
    assert "receiver on" not in proc.stdout
    assert not store.exists()


def test_a_port_in_use_says_to_pick_another():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = hoptrace("collector", "serve-otlp", "--port", str(port), "--store", "sqlite:///:memory:")
    assert_one_line_error(proc, "hoptrace collector:", "already in use", "--port")


def test_known_library_errors_read_as_one_line():
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no\nway"}}, "GetFunction")
    expired = ClientError({"Error": {"Code": "ExpiredTokenException", "Message": "x"}}, "ListFunctions")
    assert "AWS_ACCESS_KEY_ID" in errors.describe(NoCredentialsError())
    assert errors.describe(denied) == ("access denied for GetFunction (no way); the caller needs the IAM actions "
                                       "listed in docs/deploy.md")
    assert "expired" in errors.describe(expired)
    assert errors.describe(OSError(errno.EADDRINUSE, "Address already in use")).startswith("the port is already")
    assert errors.describe(FileNotFoundError(errno.ENOENT, "No such file", "/x/rules.toml")) == \
        "/x/rules.toml: No such file"
    assert errors.describe(RuntimeError("a bug")) is None


def test_an_unexpected_error_is_one_line_naming_the_debug_switch(monkeypatch, capsys):
    # GIVEN a command whose run fails in a way nobody foresaw
    module = types.ModuleType("boom_command")
    module.add_arguments = lambda parser: None

    def run(args):
        raise KeyError("surprise")

    module.run = run
    monkeypatch.setitem(sys.modules, "boom_command", module)
    monkeypatch.setitem(main.SUBCOMMANDS, "boom", ("boom_command", "fails"))
    monkeypatch.delenv("HOPTRACE_DEBUG", raising=False)
    # WHEN it runs THEN it exits 1 with one line that says how to get the traceback
    assert main.main(["boom"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "hoptrace boom: unexpected error KeyError: 'surprise' (a bug: rerun with HOPTRACE_DEBUG=1 for " \
                  "the traceback and report it)"
    # AND with HOPTRACE_DEBUG=1 the traceback is there
    monkeypatch.setenv("HOPTRACE_DEBUG", "1")
    with pytest.raises(KeyError):
        main.main(["boom"])
