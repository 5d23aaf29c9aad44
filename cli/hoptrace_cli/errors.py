"""Known exceptions from the libraries hoptrace drives (botocore, samtranslator, the OS, our own parts) as one
line saying what went wrong and what to do: the single place every command's failure goes through
(`hoptrace_cli.main`), so no command prints a library's raw message or a traceback for a known cause."""

from __future__ import annotations

import errno

CREDENTIALS_HELP = ("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or AWS_PROFILE / "
                    "--profile NAME for a profile in ~/.aws/config, or run `aws configure` / `aws sso login`")
REGION_HELP = "pass --region (e.g. --region us-east-1) or set AWS_REGION"
_EXPIRED = ("ExpiredToken", "ExpiredTokenException", "RequestExpired")
_INVALID = ("InvalidClientTokenId", "UnrecognizedClientException", "InvalidSignatureException",
            "SignatureDoesNotMatch", "AuthFailure")
_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


def describe(exc: BaseException) -> str | None:
    """One line for a known cause, else None (an unexpected error: a bug to report)."""
    for describer in (_aws, _template, _os):
        message = describer(exc)
        if message is not None:
            return " ".join(message.split())
    return None


def _aws(exc: BaseException) -> str | None:
    try:
        from botocore import exceptions as boto
    except ImportError:
        return None
    if isinstance(exc, boto.NoCredentialsError | boto.PartialCredentialsError):
        return f"no AWS credentials found: {CREDENTIALS_HELP}"
    if isinstance(exc, boto.NoRegionError):
        return f"no AWS region: {REGION_HELP}"
    if isinstance(exc, boto.ProfileNotFound):
        return f"{exc}: check --profile / AWS_PROFILE against `aws configure list-profiles`"
    if isinstance(exc, boto.EndpointConnectionError | boto.ConnectTimeoutError | boto.ReadTimeoutError):
        return f"{exc}: check the network, --region and --endpoint-url"
    if isinstance(exc, boto.ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "?"), error.get("Message", "")
        operation = getattr(exc, "operation_name", "?")
        if code in _EXPIRED:
            return f"the AWS credentials have expired ({operation}): refresh them (`aws sso login`, new keys)"
        if code in _INVALID:
            return f"the AWS credentials are not valid ({code} in {operation}): {CREDENTIALS_HELP}"
        if code in _DENIED:
            return (f"access denied for {operation} ({message}); the caller needs the IAM actions listed in "
                    "docs/deploy.md")
        return f"{code} in {operation}: {message}"
    if isinstance(exc, boto.BotoCoreError):
        return str(exc)
    return None


def _template(exc: BaseException) -> str | None:
    from hoptrace_localcloud.template_checks import TemplateError, samtranslator_error

    if isinstance(exc, TemplateError):
        return str(exc)
    if isinstance(exc, Exception) and type(exc).__module__.startswith("samtranslator."):
        return str(samtranslator_error("template", exc))
    return None


def _os(exc: BaseException) -> str | None:
    if not isinstance(exc, OSError):
        return None
    if exc.errno == errno.EADDRINUSE:
        return "the port is already in use: pick another with --port (0: any free port) or stop what holds it"
    if exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return f"{exc.strerror or exc}" + (f" ({type(exc).__name__})" if exc.strerror else "")
