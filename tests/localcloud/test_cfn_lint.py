"""The test applications are real SAM templates: they would deploy unchanged."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import APPS


@pytest.mark.slow
@pytest.mark.parametrize("template", sorted(APPS.glob("*/template.yaml")), ids=lambda p: p.parent.name)
def test_cfn_lint_passes(template):
    # GIVEN a test application's template WHEN cfn-lint checks it THEN it reports nothing
    cfn_lint = shutil.which("cfn-lint") or str(Path(sys.executable).with_name("cfn-lint"))
    result = subprocess.run([cfn_lint, str(template)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
