"""The soak of `hoptrace bench soak`, short: the demo ramped (2, then 4 req/s, 5 s each) and held 10 s.

The full run (`hoptrace bench soak`: up to 16 req/s, then 10 minutes at the highest rate that holds) is
the same code; this proves the machinery and the guarantees on every CI run: every answered request
has its trace, every placed order its whole flow, and no span a function logged is missing.
"""

from __future__ import annotations

import pytest

from benchmarks import soak

pytestmark = pytest.mark.e2e


def test_short_soak_loses_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    result = soak.run(quick=True, log=print)
    with capsys.disabled():
        print("\n" + soak.markdown(result))
    # Whether 2 or 4 req/s counts as sustained is a measurement (cold starts weigh on a loaded CI machine);
    # what must hold at any rate, for every local cloud the soak ran, is below.
    assert result["ramp"] and result["holds"]
    for hold in result["holds"]:
        checks = hold["checks"]
        assert checks["requests"] > 0 and checks["errors"] == 0
        assert checks["traced"] == checks["answered"] == checks["requests"]
        assert checks["placed"] > 0 and checks["complete"] == checks["placed"], checks["incomplete"][:5]
        assert checks["spans_logged"] > 0 and checks["bad_lines"] == 0
        assert checks["spans_lost"] == 0
