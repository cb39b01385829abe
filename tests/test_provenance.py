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


def test_top_level_modules_and_versions_are_the_standard_librarys_for_every_installed_package():
    """The text reading of RECORD and METADATA agrees with importlib.metadata's parsers."""
    providers: dict[str, set[str]] = {}
    for module, names in importlib.metadata.packages_distributions().items():
        for name in names:
            providers.setdefault(name, set()).add(module)
    found: dict[str, set[str]] = {}
    for distribution in importlib.metadata.distributions():
        name, version = provenance.name_and_version(distribution)
        assert (name, version) == (distribution.metadata["Name"], distribution.version)
        found.setdefault(name, set()).update(provenance.top_level_modules(distribution))
    assert {name: modules for name, modules in found.items() if modules} == providers
    assert len(providers) > 100  # the environment's distributions, not an empty listing


def test_a_record_without_top_level_txt_names_its_packages_and_modules(tmp_path):
    info = tmp_path / "demo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n"
                                   "Name: not a header, the long description\n")
    (info / "RECORD").write_text('demo/__init__.py,sha256=x,1\n"demo/a,b.py",sha256=y,2\n'
                                 "single.py,,\nshared.so,,\n"
                                 "demo-1.0.dist-info/RECORD,,\n")
    distribution = importlib.metadata.PathDistribution(info)
    assert provenance.top_level_modules(distribution) == {"demo", "single"}
    assert provenance.name_and_version(distribution) == ("demo", "1.0")


def test_report_labels_show_commit_input_hashes_and_wandb_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "figure.png").write_bytes(b"png")
    job = {"rule": "draw", "code": {"commit": "0123456789abcdef" * 2 + "01234567", "dirty": True},
           "inputs": [{"path": "resources/data/a/train.npz", "sha256": "a" * 64},
                      {"path": "results/model.pt", "sha256": "b" * 64}],
           "wandb": {"mode": "offline", "run_id": "x1y2z3", "dir": "wandb/draw"}}
    provenance.write_records(job, ["figure.png"])
    assert provenance.report_labels("figure.png") == {
        "commit": "0123456789ab with uncommitted changes",
        "inputs (sha256)": f"train.npz {'a' * 12}; model.pt {'b' * 12}",
        "W&B run": "x1y2z3"}


def test_report_labels_say_when_the_record_is_missing_or_broken(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert set(provenance.report_labels("nowhere.png").values()) == {"not recorded"}
    broken = provenance.record_path("cut.png")
    broken.parent.mkdir(parents=True)
    broken.write_text('{"rule": "dr')
    labels = provenance.report_labels("cut.png")
    assert list(labels) == list(provenance.REPORT_LABELS)
    assert all(value.startswith("record broken: ") for value in labels.values())
