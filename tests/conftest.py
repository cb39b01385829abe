"""Shared fixtures: copies of the repository in which the workflow really runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PLANTED_API_KEY = "planted-wandb-key-3f9c2a7d1e"


def run(command: list[str], cwd: Path, env: dict | None = None, check: bool = True):
    """Run a command, return the completed process; on failure show its output.

    ``env`` overrides the environment; a value of None removes that variable.
    """
    environment = {**os.environ, **(env or {})}
    environment = {key: value for key, value in environment.items() if value is not None}
    result = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} failed ({result.returncode}):\n"
                             f"{result.stdout[-4000:]}\n{result.stderr[-6000:]}")
    return result


def snakemake(args: list[str], cwd: Path, env: dict | None = None, check: bool = True):
    """Run Snakemake with this interpreter in ``cwd``."""
    return run([sys.executable, "-m", "snakemake", *args], cwd, env, check)


def lineage(args: list[str], cwd: Path, check: bool = True):
    """Run ``python -m common.lineage`` in ``cwd`` (which imports that copy's code)."""
    return run([sys.executable, "-m", "common.lineage", *args], cwd, check=check)


def copy_repository(destination: Path) -> Path:
    """Copy the files git would ship (tracked and unignored) and commit them in a new repo."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, text=True, check=True).stdout
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    identity = ["-c", "user.name=test", "-c", "user.email=test@invalid"]
    for command in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-qm", "copy"]):
        subprocess.run(["git", *command], cwd=destination, check=True, capture_output=True)
    return destination


@pytest.fixture(scope="session")
def pristine_copy(tmp_path_factory) -> Path:
    """A copy of the repository in which nothing has run (for dry runs and lint).

    It holds empty stand-ins for the ImageNet weight files that config/paper.yaml
    names: a paper-scale plan needs them to exist, and a dry run never reads them.
    """
    copy = copy_repository(tmp_path_factory.mktemp("pristine"))
    paper = yaml.safe_load((copy / "config/paper.yaml").read_text())
    for weights in paper["pretrained"].values():
        (copy / weights).parent.mkdir(parents=True, exist_ok=True)
        (copy / weights).touch()
    return copy


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A copy on which the whole workflow ran with tests/tiny.yaml, plus its HTML report.

    A W&B API key is planted in the environment to prove that nothing persists it.
    """
    copy = copy_repository(tmp_path_factory.mktemp("tiny"))
    env = {"WANDB_API_KEY": PLANTED_API_KEY, "WANDB_MODE": None}
    args = ["--cores", "2", "--configfile", "tests/tiny.yaml"]
    snakemake(args, copy, env)
    snakemake([*args, "--report", "report.html"], copy, env)
    return copy
