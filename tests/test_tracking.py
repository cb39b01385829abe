"""What a job fixes before it computes, so that a rerun on a CPU or a GPU gives the same numbers."""

import os

import torch

from common.tracking import exact_gpu_arithmetic


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
