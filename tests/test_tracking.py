"""What a job fixes before it computes, so that a rerun on a CPU or a GPU gives the same numbers,
and what it leaves undone when it ends."""

import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from snakemake.iocontainers import Namedlist

from common import PROJECT_ROOT, memory
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


#: A fresh interpreter's page faults over ten training steps of the embedded ResNet18 (32 px,
#: batches of 32), after two steps that warm it up.
TRAINING_STEPS = """\
import resource, sys, torch
from common.memory import keep_tensor_blocks_in_the_heap
from common.models import build_classifier
torch.set_num_threads(1)
if sys.argv[1] == "heap":
    assert keep_tensor_blocks_in_the_heap()
model = build_classifier("resnet18", num_classes=2, image_size=32, base_width=16, stem="cifar")
optimiser = torch.optim.Adam(model.parameters())
x, y = torch.rand(32, 3, 32, 32), torch.arange(32) % 2
def step():
    optimiser.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimiser.step()
step(), step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults(allocator: str) -> int:
    result = subprocess.run([sys.executable, "-c", TRAINING_STEPS, allocator],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    return int(result.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator only")
def test_the_heap_setting_reuses_freed_activations_instead_of_faulting_fresh_pages():
    """With glibc's defaults a step's freed activations go back to the kernel and every step
    faults them in again, 4 KiB at a time (about 10 000 faults a step measured); kept in
    the heap, they are reused."""
    assert _page_faults("default") > 20_000
    assert _page_faults("heap") < 5_000


def test_a_jobs_record_names_the_processor_and_the_instruction_set_of_torchs_kernels():
    """Results are the same bytes on one machine whatever its cores, not across instruction
    sets, by which oneDNN and MKL choose their kernels: the record says which ran."""
    cpu = job_of_rule("cpu")._execution_record()["cpu"]
    model, capability = cpu.rsplit(" (", 1)
    assert capability == f"{torch.backends.cpu.get_cpu_capability()})"
    cpuinfo = Path("/proc/cpuinfo")
    assert model and (not cpuinfo.exists() or f": {model}\n" in cpuinfo.read_text())


def test_jobs_that_compute_with_torch_keep_tensor_blocks_in_the_heap(monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "keep_tensor_blocks_in_the_heap", lambda: calls.append(1))
    job = job_of_rule("cpu")
    job.smk.threads, job.seed = 1, None
    threads = torch.get_num_threads()
    try:
        job._prepare()
    finally:
        torch.set_num_threads(threads)
    assert calls == [1]


#: A fresh interpreter's tracked objects once torch is imported, then what the garbage
#: collector still traverses after the call every job ends with.
END_OF_A_JOB = """\
import gc, torch
from common.memory import exempt_objects_from_collection
tracked = len(gc.get_objects())
exempt_objects_from_collection()
print(tracked, gc.get_freeze_count(), len(gc.get_objects()))
"""


def test_the_shutdowns_collection_no_longer_traverses_what_the_job_made():
    result = subprocess.run([sys.executable, "-c", END_OF_A_JOB], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, check=True)
    tracked, exempt, still_traversed = map(int, result.stdout.split())
    assert tracked > 50_000  # torch's own objects (about 180 000 measured)
    assert exempt >= tracked
    assert still_traversed < 100


def test_a_job_that_ends_even_in_failure_exempts_its_objects_from_collection(monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "exempt_objects_from_collection", lambda: calls.append(1))
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # the job closes the root's
    job = job_of_rule("cpu")
    job.rule, job.wildcards = "train_classifier", {}
    job.run = SimpleNamespace(finish=lambda exit_code: None)
    job.__exit__(RuntimeError, RuntimeError("stopped"), None)
    assert calls == [1]
