"""CodePipeline Lambda actions (`CodePipeline.job`).

The job's `artifactCredentials` are live AWS credentials: nothing but the job id and the
action's function name is read.
"""

from __future__ import annotations

from typing import Any

from hoptrace import semconv
from hoptrace.config import Config
from hoptrace.triggers._messages import simple_invocation, text
from hoptrace.triggers.model import Invocation

NAME = "codepipeline"
JOB_KEY = "CodePipeline.job"


def matches(event: dict[str, Any]) -> bool:
    return isinstance(event.get(JOB_KEY), dict)


def extract(event: dict[str, Any], context: Any, config: Config) -> Invocation:
    job = event[JOB_KEY]
    job_id = text(job.get("id")) or "job"
    attributes = {semconv.OPERATION: "job", "hoptrace.codepipeline.job_id": job_id}
    return simple_invocation(NAME, f"codepipeline job {job_id}", "server", "other", attributes)
