"""The code passes the project's linter (configuration in pyproject.toml)."""

import sys

from conftest import REPO, run


def test_ruff_reports_nothing():
    result = run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], REPO, check=False)
    assert result.returncode == 0, result.stdout
