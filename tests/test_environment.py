"""The three places that pin the environment agree with each other, and what they install is
byte-compiled."""

import importlib.util
import os
import re
import sys
import sysconfig

import yaml
from conftest import REPO


def _pins(lines) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if match := re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line):
            pins[match[1].lower().replace("_", "-")] = match[2]
    return pins


def test_requirements_are_pinned_and_locked():
    lines = (REPO / "requirements.txt").read_text().splitlines()
    requirements = _pins(lines)
    assert len(requirements) == len([x for x in lines if x.strip() and not x.startswith("#")])
    locked = _pins((REPO / "requirements.lock").read_text().splitlines())
    assert {name: locked.get(name) for name in requirements} == requirements
    assert requirements["torch"] == "2.14.1" and requirements["torchvision"] == "0.29.1"
    assert int(requirements["setuptools"].split(".")[0]) < 81


def test_conda_environment_lists_the_same_pins():
    environment = yaml.safe_load((REPO / "envs" / "xai.yaml").read_text())
    pip_section = next(item["pip"] for item in environment["dependencies"]
                       if isinstance(item, dict))
    assert _pins(pip_section) == _pins((REPO / "requirements.txt").read_text().splitlines())


def test_the_installed_packages_are_byte_compiled():
    """``make`` compiles the environment itself (pip is told not to). Were the byte code
    missing, every job would compile torch's modules again whenever Python may not write
    them (PYTHONDONTWRITEBYTECODE, a read-only environment): seconds a job."""
    import snakemake.script  # noqa: F401 (what every job's preamble imports)
    import torch  # noqa: F401
    import wandb  # noqa: F401

    site_packages = sysconfig.get_paths()["purelib"]
    sources = [module.__file__ for module in list(sys.modules.values())
               if (getattr(module, "__file__", None) or "").startswith(site_packages)
               and module.__file__.endswith(".py")]
    assert len(sources) > 500
    missing = [path for path in sources
               if not os.path.exists(importlib.util.cache_from_source(path))]
    assert not missing, f"{len(missing)} modules without byte code, e.g. {missing[:3]}"
