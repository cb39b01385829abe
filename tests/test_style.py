"""The code passes the project's linter (configuration in pyproject.toml) and keeps its
import direction: the papers build on common/, never the reverse."""

import ast
import sys

from conftest import REPO, run


def test_ruff_reports_nothing():
    result = run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], REPO, check=False)
    assert result.returncode == 0, result.stdout


def _imported_modules(path) -> set[str]:
    """Every module ``path`` imports, at its top or inside a function."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


def test_the_shared_code_imports_nothing_from_the_papers():
    """common/ serves the five papers; a paper's checks or constants belong in its folder,
    so that the papers can be read, moved or dropped one by one."""
    offenders = {str(path.relative_to(REPO)): sorted(name for name in _imported_modules(path)
                                                     if name.split(".")[0] == "papers")
                 for path in sorted((REPO / "common").rglob("*.py"))}
    assert {path: names for path, names in offenders.items() if names} == {}
