"""Without the shared folder the test command stops at once with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("variable", "named"),
    [("VK_SCHEMA_DIR", "the VK API schema"), ("PROMO_GUIDE_PATH", "the guide")],
)
def test_missing_shared_folder_stops_the_suite_with_one_line(
    tmp_path: Path, variable: str, named: str
) -> None:
    env = {**os.environ, variable: str(tmp_path / "nothing-here")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "tests"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output[-2000:]
    assert output.count("\n") <= 1, output[-2000:]  # one line, no test ran
    assert "shared folder" in output and named in output and variable in output, output
