"""Knobs of the local cloud, gathered in one frozen dataclass so tests and the CLI tune the same things."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LocalCloudConfig:
    """Everything that differs between "like AWS" and "fast enough for a test suite".

    Defaults follow AWS where waiting is cheap; tests shorten the waits.
    """

    region: str = "us-east-1"
    account_id: str = "123456789012"
    stack_name: str = "local"
    #: Port of the local API Gateway; 0 picks a free one.
    api_port: int = 0
    #: Concurrency cap per function when the template sets no ReservedConcurrentExecutions.
    max_concurrency: int = 10
    #: Seconds an idle worker stays warm before it is stopped.
    idle_timeout: float = 300.0
    #: Seconds until a message a mapping did not delete comes back (None: the queue's own VisibilityTimeout).
    sqs_visibility_timeout: int | None = None
    #: Long-poll wait of the event source mappings and internal delivery queues, seconds (1..20).
    sqs_wait_seconds: int = 2
    #: Delays before the async retries (AWS waits about 1 and 2 minutes).
    async_retry_delays: tuple[float, ...] = (60.0, 120.0)
    #: How often buffered log events are pushed to subscription destinations, seconds.
    log_batch_interval: float = 1.0
    #: Multiplies schedule periods: 0.01 makes rate(1 minute) fire every 0.6 s.
    schedule_time_scale: float = 1.0
    #: Multiplies state machines' Wait states, Retry intervals and task timeouts (0.01: a 2 s retry waits 20 ms).
    state_machine_time_scale: float = 1.0
    #: Install each function's and python layer's requirements.txt (cached by hash), as `sam build` would.
    build: bool = True
    #: Where built requirements are cached (None: ~/.hoptrace/build).
    build_cache: str | None = None
    #: Where SAM translations are cached by input hash ("" disables; None: ~/.hoptrace/translated).
    translation_cache: str | None = None
    #: Keys of JWT authorizers, {issuer: HS256 secret or RS256/ES256 public key PEM}.
    jwt_keys: dict[str, str] = field(default_factory=dict)
    #: Local directories for layers referenced by ARN, {arn-or-name: path}.
    layer_dirs: dict[str, str] = field(default_factory=dict)
    #: Overrides of template Parameters.
    parameters: dict[str, str] = field(default_factory=dict)
    #: Also write function logs to moto's CloudWatch Logs (costs one API call per batch).
    mirror_logs_to_moto: bool = True
    #: Kill a worker whose resident memory passes the function's MemorySize during an invocation, as Lambda does
    #: (logged as `Runtime exited with error: signal: killed` + `Runtime.OutOfMemory`).
    enforce_memory_limit: bool = True
