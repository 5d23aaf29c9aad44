"""The moto-side forwarder and the local hook server: hooked targets reach the handler, the rest reach moto,
and a broken handler or a bad body is an AWS-shaped error, never a hang."""

from __future__ import annotations

import io
import json

from hoptrace_localcloud.hooks import HookServer, HookTargets, forward_selected


def test_hooked_targets_go_to_the_hook_server_and_others_to_moto():
    server = HookServer()
    try:
        server.register("Svc.Echo", lambda request: (200, {"echo": request}))
        server.register("Svc.Boom", lambda request: 1 / 0)
        moto_calls = []

        def moto(environ, start_response):
            moto_calls.append(environ["HTTP_X_AMZ_TARGET"])
            start_response("200 OK", [])
            return [b"{}"]

        app = forward_selected(moto, server.targets(["Svc.Echo", "Svc.Boom", "Svc.Missing"]))
        statuses = {}
        for target, body in (("Svc.Echo", b'{"a": 1}'), ("Svc.Boom", b"{}"), ("Svc.Missing", b"{}"),
                             ("Svc.Echo", b"[1]"), ("Other.Op", b"{}")):
            captured: dict[str, str] = {}
            chunks = app({"HTTP_X_AMZ_TARGET": target, "CONTENT_LENGTH": str(len(body)),
                          "wsgi.input": io.BytesIO(body)}, lambda status, headers, seen=captured: seen.update(s=status))
            statuses[(target, body)] = (captured["s"].split()[0], json.loads(b"".join(chunks)))
        assert statuses[("Svc.Echo", b'{"a": 1}')] == ("200", {"echo": {"a": 1}})
        assert statuses[("Svc.Boom", b"{}")][0] == "500" and "ZeroDivisionError" in statuses[("Svc.Boom", b"{}")][1][
            "message"]
        assert statuses[("Svc.Missing", b"{}")][1]["__type"] == "UnknownOperationException"
        assert statuses[("Svc.Echo", b"[1]")][1]["__type"] == "SerializationException"
        assert moto_calls == ["Other.Op"]
    finally:
        server.stop()


def test_a_gone_local_cloud_is_a_503_not_a_hang():
    app = forward_selected(lambda e, s: [], HookTargets("http://127.0.0.1:9/", frozenset({"Svc.Op"})))
    captured = {}
    body = b"".join(app({"HTTP_X_AMZ_TARGET": "Svc.Op", "CONTENT_LENGTH": "2", "wsgi.input": io.BytesIO(b"{}")},
                        lambda status, headers: captured.update(s=status)))
    assert captured["s"].startswith("503") and "did not answer Svc.Op" in json.loads(body)["message"]


def test_targets_travel_to_the_moto_process_through_its_environment(monkeypatch):
    targets = HookTargets("http://127.0.0.1:1234/", frozenset({"A.B", "C.D"}))
    for key, value in targets.environment().items():
        monkeypatch.setenv(key, value)
    assert HookTargets.from_environment() == targets
