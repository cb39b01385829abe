"""What a job fixes before it computes, so that a rerun on a CPU or a GPU gives the same numbers."""

import os
from types import SimpleNamespace

import pytest
import torch
from snakemake.iocontainers import Namedlist

from common.tracking import Job, exact_gpu_arithmetic


def job_of_rule(device: str, **resources) -> Job:
    """A job object for a rule with these resources, under a configuration with this device
    (only what choosing the device reads)."""
    job = Job.__new__(Job)
    job.smk = SimpleNamespace(resources=Namedlist(fromdict=resources),
                              config={"device": device})
    return job


@pytest.mark.parametrize("device", ["cpu", "auto", "cuda"])
def test_a_rule_without_a_gpu_resource_computes_on_the_cpu_whatever_the_device(device):
    assert job_of_rule(device, mem_mb=3000).compute_device() == "cpu"


def test_a_rule_with_a_gpu_resource_computes_on_the_configured_device():
    assert job_of_rule("cpu", gpu=0).compute_device() == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert job_of_rule("auto", gpu=0).compute_device() == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_cuda_asked_for_on_a_machine_without_it_names_the_key():
    with pytest.raises(RuntimeError, match="config key 'device' is 'cuda'"):
        job_of_rule("cuda", gpu=1).compute_device()


def test_jobs_fix_the_cublas_workspace_that_deterministic_gpu_kernels_need(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    exact_gpu_arithmetic()
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"


def test_jobs_keep_a_cublas_workspace_the_user_set(monkeypatch):
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")
    exact_gpu_arithmetic()
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"


def test_jobs_compute_float32_without_tf32_rounding():
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
    try:
        exact_gpu_arithmetic()
        assert not torch.backends.cudnn.allow_tf32
        assert not torch.backends.cuda.matmul.allow_tf32
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before
