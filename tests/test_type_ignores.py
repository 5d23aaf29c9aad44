"""Every `# type: ignore` left in the shipped packages names its error code and says why, on its own line.

mypy itself (`mypy`, run by `.ci/run`) refuses an ignore without a code (`ignore-without-code`) and one that
hides nothing (`warn_unused_ignores`); this test holds the third rule: the reason, so a reader can judge it.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("layer/hoptrace", "collector/hoptrace_collector", "alerts/hoptrace_alerts", "cli/hoptrace_cli",
            "localcloud/hoptrace_localcloud", "dashboard/hoptrace_dashboard")
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")


def test_every_type_ignore_names_a_code_and_a_reason() -> None:
    bare = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                found = IGNORE.search(line)
                if found and not (found["codes"] and re.match(r"\s*#\s*\S", found["rest"])):
                    bare.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not bare, "a `# type: ignore[code]` needs `  # why` after it:\n" + "\n".join(bare)
