"""Context written into a request's serialised body, after botocore has validated and serialised it.

Handing botocore one more nested parameter (an SQS message's `traceparent` attribute) costs more than
the client span itself: its validator and serialiser walk the new structure on every call, about a
third of three SendMessage calls' overhead. For an operation whose carrier is a new top-level member,
the injector returns that member as its protocol serialises it instead (JSON text for SQS, the form
fields of the query protocol for SNS), and the one wrap of `BaseClient._convert_to_request_dict`
here adds it to the body botocore produced. The request
on the wire is the one the parameter would have made; what the caller passed, and what botocore's
parameter hooks (a Stubber's expected params) see, is exactly what the caller wrote.

The member travels in `PENDING`, under the ident of the thread making the call (botocore's calls are
synchronous: a thread makes one at a time), set by the SDK hook around the one call it belongs to and
taken by the first body it is written into, so a nested call (credentials fetched while signing) never
receives it.
"""

from __future__ import annotations

import _thread
import inspect
from typing import Any

from hoptrace import health

# thread ident -> a JSON member's bytes (`"name": value`), or a query-protocol request's form fields (a dict).
PENDING: dict[int, bytes | dict[str, str]] = {}
_original: Any = None
_SIGNATURE = "(self, api_params, operation_model, endpoint_url, context=None, headers=None, set_user_agent_header=True)"


def install() -> None:
    """Wrap `_convert_to_request_dict` once; while no member is pending anywhere a call pays one truth test."""
    global _original
    if _original is not None:
        return
    from botocore.client import BaseClient

    original = _original = BaseClient._convert_to_request_dict
    pending = PENDING

    def generic(self: Any, *args: Any, **kwargs: Any) -> Any:
        request = original(self, *args, **kwargs)
        if pending:
            member = pending.pop(_thread.get_ident(), None)
            if member is not None:
                _add(request, member)
        return request

    def spelt_out(self: Any, api_params: Any, operation_model: Any, endpoint_url: Any, context: Any = None,
                  headers: Any = None, set_user_agent_header: Any = True) -> Any:
        """`generic` with botocore's own parameters: a call (made with keywords) packs no `*args`/`**kwargs`."""
        request = original(self, api_params, operation_model, endpoint_url, context, headers, set_user_agent_header)
        if pending:
            member = pending.pop(_thread.get_ident(), None)
            if member is not None:
                _add(request, member)
        return request

    _convert_to_request_dict = spelt_out if str(inspect.signature(original)) == _SIGNATURE else generic
    _convert_to_request_dict.__hoptrace_original__ = original  # type: ignore[attr-defined]  # a marker on our function
    BaseClient._convert_to_request_dict = _convert_to_request_dict


def _add(request: Any, member: bytes | dict[str, str]) -> None:
    """`member` into the serialised `request`'s body (never raises: the call goes on without it)."""
    try:
        body = request.get("body")
        if isinstance(member, dict):
            if type(body) is dict:
                body.update(member)
            else:
                health.skipped("aws.body_not_form", "a query-protocol request's body was not its form fields")
        elif type(body) is bytes and body[:1] == b"{" and body[-1:] == b"}":  # `member` as the last member
            request["body"] = b"{" + member + b"}" if body == b"{}" else body[:-1] + b", " + member + b"}"
        else:
            health.skipped("aws.body_not_json", "a JSON-protocol request's body was not a JSON object")
    except Exception as error:
        health.swallow("aws.late_body", error)


def uninstall() -> None:
    global _original
    if _original is None:
        return
    from botocore.client import BaseClient

    BaseClient._convert_to_request_dict = _original
    _original = None
