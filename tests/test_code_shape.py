"""The code's shape that the layout promises: each file does one job, under 500 lines."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 500


@pytest.mark.parametrize("package", ["freqai_swing", "tooling"])
def test_no_file_is_over_the_limit(package: str) -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / package).rglob("*.py"))
        if (lines := len(path.read_text().splitlines())) > LIMIT
    }
    assert not long, f"split these by job (over {LIMIT} lines): {long}"


def test_the_model_families_share_a_core_that_imports_none_of_them() -> None:
    common = ROOT / "freqai_swing" / "models" / "common"
    families = ("boosting", "ensemble", "ppo")
    for path in common.rglob("*.py"):
        text = path.read_text()
        for family in families:
            assert f"freqai_swing.models.{family}" not in text, (path.name, family)
