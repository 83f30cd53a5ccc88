"""Without the shared folder the test command stops at once with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_missing_shared_folder_stops_the_suite_with_one_line(tmp_path: Path) -> None:
    # Both missing in one run (each run costs the suite's imports): one line names both.
    env = {
        **os.environ,
        "VK_SCHEMA_DIR": str(tmp_path / "no-schema"),
        "PROMO_GUIDE_PATH": str(tmp_path / "no-guide.txt"),
    }
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
    for named in (
        "shared folder",
        "the VK API schema",
        "VK_SCHEMA_DIR",
        "the guide",
        "PROMO_GUIDE_PATH",
    ):
        assert named in output, output
