"""The SLURM profile on a real one-node SLURM cluster (tests/slurm_cluster.py), as shipped.

Needs Debian's slurm-wlm and munge, and root (``make slurm`` installs them). Outside CI the
module is skipped when they are missing; under CI it fails.

The cluster is what a profile meets on many small clusters: one default partition whose name
the profile cannot know, no accounting storage (sacct fails), and a second partition with a
GPU. Runs use only the settings README's "Running on a cluster" documents.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
from conftest import lineage, snakemake
from slurm_cluster import SYSTEM_CONF, LocalSlurm, missing_programs


def _unavailable() -> str | None:
    if missing := missing_programs():
        return f"SLURM programs missing ({', '.join(missing)}; make slurm installs them)"
    if os.geteuid() != 0:
        return "the test cluster runs its daemons as root"
    if SYSTEM_CONF.exists() or SYSTEM_CONF.is_symlink():
        return f"{SYSTEM_CONF} exists: this machine belongs to a real cluster"
    return None


if reason := _unavailable():
    if os.environ.get("CI"):
        pytest.fail(f"a SLURM cluster is required under CI: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)

#: The shipped profile, polling the cluster sooner: the plugin waits the profile's 10 s before
#: its first look at a job and 10 s longer at each look that finds nothing finished, which
#: for the tiny run's jobs of seconds is most of a test's time.
PROFILE = ["--profile", "profiles/slurm", "--configfile", "tests/tiny.yaml",
           "--slurm-init-seconds-before-status-checks", "2"]
MODEL = "results/models/peppers/simple/seed0.pt"
FIGURES = ["results/models/figures/predictions_peppers_simple_seed0.png",
           "results/survey/figure6.png"]
# A run must end, failed or not, instead of waiting on SLURM: far longer than its jobs take.
WITHIN_SECONDS = 400


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    slurm = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    try:
        slurm.start()
        yield slurm
    finally:
        slurm.stop()


@pytest.fixture(scope="module")
def built(cluster, pristine_copy, tmp_path_factory):
    """A copy in which a classifier's figure (its dataset, its training, the figure) and
    another figure were built through the SLURM profile."""
    copy = shutil.copytree(pristine_copy, tmp_path_factory.mktemp("on-slurm") / "copy",
                           symlinks=True)
    snakemake([*FIGURES, *PROFILE], copy, timeout=WITHIN_SECONDS)
    return copy


def slurm_jobs() -> dict[str, dict[str, str]]:
    """Every job the cluster still knows, by id: scontrol's fields (Comment holds the rule
    or group, TresPerJob the generic resources asked for, e.g. ``gres:gpu:1``)."""
    listing = subprocess.run(["scontrol", "show", "job", "--oneliner"],
                             capture_output=True, text=True, check=True).stdout
    jobs = [dict(re.findall(r"(\w+)=(\S*)", line)) for line in listing.splitlines()]
    return {job["JobId"]: job for job in jobs if "JobId" in job}


def record(copy, output: str) -> dict:
    return json.loads((copy / "results/provenance" / f"{output}.json").read_text())


def test_the_shipped_profile_builds_a_target_on_the_default_partition(built):
    """As shipped: no partition named (the cluster's default one is "main"), no account,
    no accounting storage, and no GPU asked for under the default device."""
    jobs = {record(built, path)["execution"]["slurm_job_id"]
            for path in (MODEL, "resources/data/peppers/manifest.json", *FIGURES)}
    assert None not in jobs
    known = slurm_jobs()
    assert jobs <= set(known)
    for job_id in jobs:
        assert known[job_id]["Partition"] == "main"
        assert known[job_id]["JobState"] == "COMPLETED"
        assert "gpu" not in known[job_id].get("TresPerJob", "")
    assert 0 <= json.loads((built / MODEL).with_suffix(".json").read_text())["test_accuracy"] <= 1
    assert record(built, MODEL)["device"] == "cpu"


def test_small_jobs_share_one_slurm_job(built):
    """Both figures were drawn in one SLURM job (the profile's group "figures")."""
    jobs = {record(built, figure)["execution"]["slurm_job_id"] for figure in FIGURES}
    assert len(jobs) == 1
    assert slurm_jobs()[jobs.pop()]["Comment"].startswith("rule_figures_")


def test_lineage_verifies_what_slurm_built(built):
    result = lineage(["verify"], built)
    assert result.returncode == 0, result.stdout + result.stderr


def test_running_locally_after_slurm_reruns_nothing(built):
    result = snakemake(["-n", *FIGURES, "--configfile", "tests/tiny.yaml"], built)
    assert "Nothing to be done" in result.stdout + result.stderr


def test_gpu_jobs_go_to_the_gpu_partition_and_a_failed_job_is_reported(built, tmp_path):
    """With device cuda and a partitions file naming the GPU partition (the documented
    settings), a training asks the GPU partition for one GPU. No CUDA device stands behind
    that GPU, so the training fails: Snakemake reports the failure with its reason and exits
    instead of waiting."""
    partitions = tmp_path / "partitions.yaml"
    partitions.write_text("partitions:\n  main: {max_gpu: 0}\n  gpu: {max_gpu: 1}\n")
    before = set(slurm_jobs())
    result = snakemake(["results/models/peppers/simple/seed1.pt", *PROFILE, "--config",
                        "device=cuda", "--slurm-partition-config", str(partitions)],
                       built, check=False, timeout=WITHIN_SECONDS)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Error in rule train_classifier" in output
    assert "config key 'device' is 'cuda' but no CUDA device is available" in output
    new = [job for job_id, job in slurm_jobs().items() if job_id not in before]
    assert len(new) == 1 and new[0]["Comment"].startswith("rule_train_classifier")
    assert new[0]["Partition"] == "gpu" and new[0]["TresPerJob"] == "gres:gpu:1"
    assert new[0]["JobState"] == "FAILED"
    assert not (built / "results/models/peppers/simple/seed1.pt").exists()
