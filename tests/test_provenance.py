"""What a provenance record says about the code and packages that produced an output."""

import importlib.metadata
import platform

import numpy
import torch

from common import PROJECT_ROOT, provenance
from common.io import sha256_file


def test_project_modules_hash_the_projects_imported_files_and_nothing_installed():
    modules = provenance.project_modules()
    assert modules["common/provenance.py"] == sha256_file(PROJECT_ROOT / "common/provenance.py")
    assert "tests/test_provenance.py" in modules
    assert all((PROJECT_ROOT / path).is_file() for path in modules)
    assert not any(path.startswith(".venv/") or "site-packages" in path for path in modules)


def test_imported_packages_are_the_installed_versions():
    assert numpy and torch  # imported, so recorded
    packages = provenance.imported_packages()
    assert packages["torch"] == importlib.metadata.version("torch")
    assert packages["numpy"] == importlib.metadata.version("numpy")
    assert packages["python"] == platform.python_version()
