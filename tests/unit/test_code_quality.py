"""The house rules that tooling can check: ruff clean, and no contract break."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_ruff_is_clean() -> None:
    result = subprocess.run([str(BIN / "ruff"), "check", "--no-cache", str(ROOT)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_contract_does_not_break_the_previous_one() -> None:
    # buf breaking against the last earlier commit that changed proto/ (skips without one).
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "breaking.py")],
                            capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
