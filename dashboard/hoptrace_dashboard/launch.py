"""`python -m hoptrace_dashboard.launch <streamlit run args>`: Streamlit with the Host check on every HTTP route.

Streamlit checks `server.allowedHosts` on its WebSocket only, so `/_stcore/health` and the
other HTTP routes answered any `Host` (a DNS-rebinding page could probe them). This launcher
adds one ASGI middleware that answers 403 to a Host outside the list (Streamlit's own
`is_host_allowed`, so the rules are the same), then hands over to `streamlit`'s CLI.
"""

from __future__ import annotations

import sys
from typing import Any


class HostCheck:
    """ASGI middleware: HTTP requests whose Host is not in `server.allowedHosts` get 403."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            from streamlit.web.server.starlette.starlette_websocket import is_host_allowed

            host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), None)
            if not is_host_allowed(host):
                body = b"this Host is not allowed (server.allowedHosts)\n"
                headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
                await send({"type": "http.response.start", "status": 403, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def install() -> None:
    from starlette.middleware import Middleware
    from streamlit.web.server.starlette import starlette_app

    original = starlette_app.create_streamlit_middleware

    def with_host_check() -> list[Any]:
        return [Middleware(HostCheck), *original()]

    starlette_app.create_streamlit_middleware = with_host_check


def main() -> None:
    install()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
