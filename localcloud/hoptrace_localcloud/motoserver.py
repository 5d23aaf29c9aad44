"""moto's server in a child process on 127.0.0.1, so managed services do not share the GIL with the router.

Run as `python -m hoptrace_localcloud.motoserver`: it binds a free port, prints it on stdout and exits as
soon as its stdin closes — which also happens when the parent dies, so the server can never be orphaned.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Any

from .hooks import HookTargets, forward_selected

DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


class MotoServerError(RuntimeError):
    """moto's server did not start."""


class MotoServer:
    """Starts, addresses and stops one moto server process."""

    def __init__(self, start_timeout: float = 30.0, hooks: HookTargets | None = None) -> None:
        self._start_timeout = start_timeout
        self._hooks = hooks
        self._process: subprocess.Popen[bytes] | None = None
        self.endpoint_url = ""

    def start(self) -> str:
        self.launch()
        return self.wait_ready()

    def launch(self) -> None:
        """Start the process without waiting, so the caller can work while moto imports."""
        env = dict(os.environ)
        if self._hooks is not None:
            env.update(self._hooks.environment())
        self._process = subprocess.Popen(
            [sys.executable, "-m", "hoptrace_localcloud.motoserver"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self) -> str:
        """Wait for the port the server reports once it listens; its endpoint URL."""
        assert self._process is not None, "launch() first"
        stdout = self._process.stdout
        assert stdout is not None, "launched with stdout=PIPE"
        port_line: list[bytes] = []
        reader = threading.Thread(target=lambda: port_line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(self._start_timeout)
        if not port_line or not port_line[0].strip().isdigit():
            self.stop()
            raise MotoServerError(
                f"moto server did not report its port within {self._start_timeout:.0f} s; "
                "check that moto[server] is installed: pip install 'hoptrace[local]'"
            )
        self.endpoint_url = f"http://127.0.0.1:{int(port_line[0])}"
        return self.endpoint_url

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None


def client_factory(endpoint_url: str, region: str) -> Any:
    """Return a function making boto3 clients bound to the moto server (one shared session, thread-safe clients)."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=DUMMY_CREDENTIALS["AWS_SESSION_TOKEN"],
        region_name=region,
    )
    config = Config(max_pool_connections=50, read_timeout=60, retries={"max_attempts": 2}, inject_host_prefix=False)
    lock = threading.Lock()

    def make(service: str) -> Any:
        with lock:  # sessions are not thread-safe; the clients they make are
            return session.client(service, endpoint_url=endpoint_url, config=config)

    return make


def _cache_jsonpath_parser() -> None:
    """moto's EventBridge builds a jsonpath parser (a yacc table, ~35 ms) for every input path of every
    target of every event: ~300 ms per PutEvents. The paths are a handful of constants, so parse each once."""
    import functools

    try:
        import jsonpath_ng.ext
    except ImportError:  # moto may stop using it; then there is nothing to speed up
        return
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)


def _serve() -> None:
    _cache_jsonpath_parser()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    app = forward_selected(DomainDispatcherApplication(create_backend_app), HookTargets.from_environment())
    server = make_server("127.0.0.1", 0, app, threaded=True)

    def exit_when_parent_goes() -> None:
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=exit_when_parent_goes, daemon=True).start()
    sys.stdout.write(f"{server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    _serve()
