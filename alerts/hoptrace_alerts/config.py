"""The alert rules file (TOML, read with the stdlib's tomllib) and the environment, read once.

TOML rather than YAML because the evaluator runs as a Lambda function with only the stdlib
and boto3: tomllib is built into Python 3.11+, PyYAML is not in the Lambda runtime.

Every key is optional. A rule's fields come, lowest first, from its built-in default, the
`[defaults]` table (window, baseline, cooldown), its `[rules.<name>]` table, then the
`[overrides."<name or glob>"]` tables that match the function (or, for `dlq_arrivals`, the
queue): globs in file order, an exact name last, so the most specific setting wins.
`default_toml()` prints the whole file with every default and its meaning.

The environment wins over the file for what deployment wires (HOPTRACE_ALERT_TOPIC_ARN,
HOPTRACE_ALERT_WEBHOOK_URL, HOPTRACE_DASHBOARD_URL); HOPTRACE_ALERT_RULES names the file, or
holds the TOML itself.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hoptrace_alerts import params
from hoptrace_alerts.params import Param, checked, toml_value
from hoptrace_alerts.rules import RULES
from hoptrace_alerts.rules.common import DEFAULTABLE

ENV_RULES = "HOPTRACE_ALERT_RULES"
ENV_TOPIC = "HOPTRACE_ALERT_TOPIC_ARN"
ENV_WEBHOOK = "HOPTRACE_ALERT_WEBHOOK_URL"
ENV_DASHBOARD = "HOPTRACE_DASHBOARD_URL"

TOP: dict[str, Param] = {
    "dashboard_url": Param("http://127.0.0.1:8501", params.url_or_empty,
                           "base URL of the dashboard that notifications link to (env HOPTRACE_DASHBOARD_URL)"),
    "lag_s": Param(0.0, params.seconds_or_zero,
                   "judge windows ending this many seconds ago: spans still travelling through the logs are not "
                   "counted as missing"),
}
NOTIFY: dict[str, Param] = {
    "stdout": Param(True, params.boolean, "print each notification (in Lambda: to the function's log)"),
    "sns_topic_arn": Param("", params.text, "SNS topic to publish to (env HOPTRACE_ALERT_TOPIC_ARN); empty: none"),
    "webhook_url": Param("", params.url_or_empty,
                         "URL to POST Slack-compatible JSON to (env HOPTRACE_ALERT_WEBHOOK_URL); empty: none"),
    "webhook_timeout_s": Param(5.0, params.seconds, "timeout of one webhook attempt"),
    "webhook_attempts": Param(3, params.positive_int, "webhook attempts in all (retries on errors, 429 and 5xx)"),
    "webhook_backoff_s": Param(1.0, params.seconds_or_zero, "wait before the first retry; doubled each time"),
    "notify_resolved": Param(True, params.boolean, "also notify when an incident resolves (once per incident)"),
}
SECTIONS = ("notify", "defaults", "rules", "overrides")


class ConfigError(ValueError):
    """The rules file is wrong; `problems` names each wrong field by its path (`rules.error_spike.factor`)."""

    def __init__(self, problems: list[str], source: str = "") -> None:
        self.problems = problems
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(where + ("; ".join(problems) if len(problems) == 1 else
                                  f"{len(problems)} problems:\n  " + "\n  ".join(problems)))


@dataclass(frozen=True)
class Override:
    pattern: str
    enabled: bool | None  # `enabled` at the subject level: false mutes every rule for it
    rules: dict[str, dict[str, Any]]

    @property
    def exact(self) -> bool:
        return not any(c in self.pattern for c in "*?[")

    def matches(self, subject: str) -> bool:
        return subject == self.pattern if self.exact else fnmatch.fnmatchcase(subject, self.pattern)


@dataclass(frozen=True)
class AlertConfig:
    dashboard_url: str = TOP["dashboard_url"].default
    lag_s: float = TOP["lag_s"].default
    notify: dict[str, Any] = field(default_factory=lambda: {k: p.default for k, p in NOTIFY.items()})
    rules: dict[str, dict[str, Any]] = field(default_factory=lambda: {n: _rule_defaults(n, {}) for n in RULES})
    overrides: tuple[Override, ...] = ()  # globs in file order, then exact names: later ones win
    source: str = "built-in defaults"

    def params_for(self, rule: str, subject: str) -> dict[str, Any] | None:
        """The rule's fields for one function or queue after every matching override; None when it is off."""
        effective = dict(self.rules[rule])
        for override in self.overrides:
            if override.matches(subject):
                if override.enabled is not None:
                    effective["enabled"] = override.enabled
                effective.update(override.rules.get(rule, {}))
        return effective if effective["enabled"] else None

    def rules_document(self) -> dict[str, Any]:
        """The rules as evaluated, for the store (so readers show what actually ran); no `notify`: a webhook
        URL is a secret."""
        return {"source": self.source, "dashboard_url": self.dashboard_url, "lag_s": self.lag_s, "rules": self.rules,
                "overrides": [{"pattern": o.pattern, "enabled": o.enabled, "rules": o.rules} for o in self.overrides]}

    @classmethod
    def from_rules_document(cls, document: Mapping[str, Any]) -> AlertConfig:
        """The inverse of `rules_document`; fields this version does not know are dropped, missing ones defaulted."""
        def fields(rule: str, given: Mapping[str, Any]) -> dict[str, Any]:
            params = RULES[rule].PARAMS
            return {k: params[k].check(v) for k, v in given.items() if k in params}

        rules = {name: {**_rule_defaults(name, {}), **fields(name, document.get("rules", {}).get(name, {}))}
                 for name in RULES}
        overrides = tuple(Override(o["pattern"], o.get("enabled"), {r: fields(r, p) for r, p in o.get("rules", {})
                                                                    .items() if r in RULES})
                          for o in document.get("overrides", []))
        return cls(dashboard_url=document.get("dashboard_url", TOP["dashboard_url"].default),
                   lag_s=document.get("lag_s", 0.0), rules=rules, overrides=overrides,
                   source=document.get("source", "the evaluator's last run"))


def _rule_defaults(rule: str, defaults: dict[str, Any]) -> dict[str, Any]:
    fields = RULES[rule].PARAMS
    out = {k: p.check(p.default) for k, p in fields.items()}
    out.update({k: v for k, v in defaults.items() if k in fields})
    return out


def parse(document: Mapping[str, Any], source: str = "", environ: Mapping[str, str] | None = None) -> AlertConfig:
    """An AlertConfig from a parsed TOML document; ConfigError lists every problem, each with its path."""
    problems: list[str] = []
    top = checked(TOP, {k: v for k, v in document.items() if k not in SECTIONS}, "", problems)
    notify = {k: p.default for k, p in NOTIFY.items()}
    notify.update(checked(NOTIFY, _table(document, "notify", problems), "notify", problems))
    defaults = checked(DEFAULTABLE, _table(document, "defaults", problems), "defaults", problems)
    rules = {name: _rule_defaults(name, defaults) for name in RULES}
    for name, given in _table(document, "rules", problems).items():
        if name not in RULES:
            problems.append(f"rules.{name}: unknown rule; the rules are {', '.join(RULES)}")
        elif not isinstance(given, dict):
            problems.append(f"rules.{name}: must be a table ([rules.{name}]), got {given!r}")
        else:
            rules[name].update(checked(RULES[name].PARAMS, given, f"rules.{name}", problems))
    overrides = [_override(pattern, given, problems)
                 for pattern, given in _table(document, "overrides", problems).items()]
    _apply_environment(environ if environ is not None else os.environ, top, notify, problems)
    if problems:
        raise ConfigError(problems, source)
    ordered = tuple(o for o in overrides if not o.exact) + tuple(o for o in overrides if o.exact)
    return AlertConfig(dashboard_url=top.get("dashboard_url", TOP["dashboard_url"].default),
                       lag_s=top.get("lag_s", TOP["lag_s"].default), notify=notify, rules=rules,
                       overrides=ordered, source=source or "built-in defaults")


def _table(document: Mapping[str, Any], name: str, problems: list[str]) -> dict[str, Any]:
    value = document.get(name, {})
    if not isinstance(value, dict):
        problems.append(f"{name}: must be a table ([{name}]), got {value!r}")
        return {}
    return value


def _override(pattern: str, given: Any, problems: list[str]) -> Override:
    path = f'overrides."{pattern}"'
    if not isinstance(given, dict):
        problems.append(f"{path}: must be a table of rule tables, got {given!r}")
        return Override(pattern, None, {})
    enabled, rules = None, {}
    for key, value in given.items():
        if key == "enabled":
            try:
                enabled = params.boolean(value)
            except ValueError as exc:
                problems.append(f"{path}.enabled: {exc}")
        elif key not in RULES:
            problems.append(f"{path}.{key}: unknown rule; an override holds `enabled` or tables named after the "
                            f"rules: {', '.join(RULES)}")
        elif not isinstance(value, dict):
            problems.append(f"{path}.{key}: must be a table, got {value!r}")
        else:
            rules[key] = checked(RULES[key].PARAMS, value, f"{path}.{key}", problems)
    return Override(pattern, enabled, rules)


def _apply_environment(environ: Mapping[str, str], top: dict[str, Any], notify: dict[str, Any],
                       problems: list[str]) -> None:
    for variable, target, key, param in ((ENV_TOPIC, notify, "sns_topic_arn", NOTIFY["sns_topic_arn"]),
                                         (ENV_WEBHOOK, notify, "webhook_url", NOTIFY["webhook_url"]),
                                         (ENV_DASHBOARD, top, "dashboard_url", TOP["dashboard_url"])):
        value = environ.get(variable, "").strip()
        if value:
            try:
                target[key] = param.check(value)
            except ValueError as exc:
                problems.append(f"env {variable}: {exc}")


def load(source: str | Path | None = None, environ: Mapping[str, str] | None = None) -> AlertConfig:
    """The config from a file path, inline TOML text, or (None) HOPTRACE_ALERT_RULES, else the defaults."""
    environ = os.environ if environ is None else environ
    if source is None:
        source = environ.get(ENV_RULES, "").strip() or None
    if source is None:
        return parse({}, "", environ)
    text, name = _read(source)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"not valid TOML: {exc}"], name) from exc
    return parse(document, name, environ)


def _read(source: str | Path) -> tuple[str, str]:
    """(text, name for messages): inline TOML is recognised by a newline or an `=`; anything else is a path."""
    if isinstance(source, str) and ("\n" in source or "=" in source):
        return source, f"{ENV_RULES} (inline TOML)"
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except OSError as exc:
        raise ConfigError([f"cannot read the rules file: {exc.strerror or exc}"], str(path)) from exc


def default_toml() -> str:
    """The rules file with every field at its default, each with its meaning: a starting point to edit."""
    lines = ["# hoptrace alert rules. Every key is optional: a missing key keeps the default shown here.", ""]
    lines += _fields(TOP, {k: p.default for k, p in TOP.items()})
    lines += ["", "[notify]", *_fields(NOTIFY, {k: p.default for k, p in NOTIFY.items()})]
    lines += ["", "[defaults]  # for every rule that takes the field, unless the rule sets its own"]
    lines += _fields(DEFAULTABLE, {k: p.default for k, p in DEFAULTABLE.items()})
    for name, module in RULES.items():
        fields = {k: p for k, p in module.PARAMS.items() if k not in DEFAULTABLE}
        taken = [k for k in DEFAULTABLE if k in module.PARAMS]
        lines += ["", f"[rules.{name}]  # {module.TITLE}, per {module.SUBJECT}; also takes {', '.join(taken)}"]
        lines += _fields(fields, {k: p.default for k, p in fields.items()})
    lines += ["", "# Per function (for dlq_arrivals: per queue), by exact name or glob; an exact name wins.",
              '# [overrides."demo-payments".error_spike]', "# min_invocations = 5",
              '# [overrides."*-reports"]', "# enabled = false", ""]
    return "\n".join(lines)


def _fields(fields: dict[str, Param], values: dict[str, Any]) -> list[str]:
    return [f"{key} = {toml_value(values[key])}  # {param.doc}" for key, param in fields.items()]
