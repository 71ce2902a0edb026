"""The test suite's own guards: CI cannot run with golden files being rewritten."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_refuses_update_golden() -> None:
    env = {**os.environ, "CI": "1", "UPDATE_GOLDEN": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/test_tag_veto.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0
    assert "UPDATE_GOLDEN is set in CI" in out.stdout + out.stderr
    assert "passed" not in out.stdout  # refused before any test ran
