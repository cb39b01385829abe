"""One context for every rule script: logging, seeding, device, W&B run, provenance.

Usage inside a Snakemake ``script:``::

    with Job(snakemake, seed=snakemake.params.seed) as job:
        ...                       # write the declared outputs (atomically)
        job.log({"loss": 0.1})    # metrics to W&B and the log file
        job.log_figure("grid", png_path)

On a clean exit the job writes a provenance record for each declared output
(see :mod:`common.provenance`). W&B runs offline unless ``WANDB_MODE`` says
otherwise; every job gets its own run directory, and outside online mode the
API key is removed from the process environment so nothing can persist it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import platform
import random
import re
import socket
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from common import PROJECT_ROOT, budget, download, memory, provenance
from common.io import atomic_path

LOGGER = logging.getLogger("xai")
WANDB_ROOT = Path("wandb")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _plain(value: Any) -> Any:
    """Snakemake containers and numpy scalars as JSON-ready Python values."""
    return json.loads(json.dumps(value, default=lambda obj: getattr(obj, "tolist", str)(obj)))


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch, and ask PyTorch for deterministic kernels.

    The kernels are set as ``torch.use_deterministic_algorithms(True, warn_only=True)`` sets
    them, without that function's other half: it also imports ``torch._inductor.config`` to
    make ``torch.compile`` deterministic, which costs every job 1.2 s of start-up although
    no job compiles anything."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch._C._set_deterministic_algorithms(True, warn_only=True)


def exact_gpu_arithmetic() -> None:
    """Make GPU kernels compute what the CPU computes, as far as a GPU can.

    Convolutions on Ampere and later GPUs default to TF32, which rounds float32 operands to
    10 bits of mantissa (about 1e-3 relative): LRP's conservation, the constant-map test of the
    metrics and every trained weight would then carry that error. cuBLAS is deterministic only
    with a fixed workspace, set before its first call (the user's own value is kept). Neither
    setting needs a GPU to be set, so a CPU job sets them too."""
    import torch

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def select_device(preference: str = "auto") -> str:
    """``cuda`` when asked for or available under ``auto``; otherwise ``cpu``."""
    import torch

    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("config key 'device' is 'cuda' but no CUDA device is available")
    if preference == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return preference


def _describe_device(device: str) -> str:
    if device.startswith("cuda"):
        import torch

        return f"{device} ({torch.cuda.get_device_name(device)})"
    return device


def _processor_model() -> str:
    """The processor's model name from Linux's /proc/cpuinfo, elsewhere the platform's."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # not Linux
        pass
    return platform.processor() or platform.machine()


def _describe_cpu(torch) -> str:
    """The processor's model and, in a job that loaded torch, the instruction set its CPU
    kernels use: oneDNN and MKL choose kernels by it, and those sum in different orders, so
    results are the same bytes on one machine whatever its cores, not across instruction
    sets (docs/reliability.md)."""
    model = _processor_model()
    return model if torch is None else f"{model} ({torch.backends.cpu.get_cpu_capability()})"


def _supersede_offline_runs(run_dir: Path) -> None:
    """Move the offline runs an earlier execution of a job left in its W&B directory to
    ``superseded/`` beside it: Snakemake removed their outputs before the job ran again, so
    they describe nothing that exists, and ``wandb sync wandb/*/*/wandb/offline-run-*``
    then uploads the current runs only."""
    earlier_runs = sorted((run_dir / "wandb").glob("offline-run-*"))
    if earlier_runs:
        (run_dir / "superseded").mkdir(exist_ok=True)
    for earlier in earlier_runs:
        earlier.rename(run_dir / "superseded" / earlier.name)


class Job:
    """The tracked execution of one Snakemake job; see the module docstring."""

    def __init__(self, smk: Any, seed: int | None = None):
        self.smk = smk
        self.seed = seed
        self.rule = smk.rule
        self.wildcards = {key: str(value) for key, value in smk.wildcards.items()}
        self.params = _plain(dict(smk.params.items()))
        self.script = Path(sys.modules["__main__"].__file__).resolve()
        self.paper = self._paper_of(self.script)
        self.device = "cpu"
        self.run = None
        self._git: dict[str, Any] = {}
        self._started = ""
        self._clock = 0.0

    @staticmethod
    def _paper_of(script: Path) -> str:
        parts = script.relative_to(PROJECT_ROOT).parts
        return parts[1] if parts[0] == "papers" else "common"

    @property
    def config(self) -> dict[str, Any]:
        """The workflow's configuration (empty for a job object without one)."""
        return getattr(self.smk, "config", None) or {}

    @property
    def images_per_pass(self) -> int:
        """The memory budget of this job: the configuration's ``images_per_pass``."""
        return int(self.config.get("images_per_pass", budget.DEFAULT_IMAGES_PER_PASS))

    @property
    def torch_threads(self) -> int:
        """The threads this job computes with: the configuration's ``torch_threads``, not the
        cores Snakemake gave it, so that its results do not depend on ``--cores``."""
        return int(self.config.get("torch_threads", self.smk.threads))

    @property
    def uses_device(self) -> bool:
        """Whether the rule computes on the configuration's ``device``: it declares a ``gpu``
        resource (how many GPUs it asks the scheduler for, none unless the device is cuda).
        Every other job computes on the CPU. The device is not among the job's parameters, so
        changing it reruns nothing; the provenance record says where the job ran."""
        resources = getattr(self.smk, "resources", None)  # a list whose items have names
        return resources is not None and "gpu" in dict(resources.items())

    def compute_device(self) -> str:
        """``cpu``, or the configuration's device for a job that uses it (an error names the
        key when that device is cuda and this machine has none)."""
        return select_device(self.config.get("device", "auto")) if self.uses_device else "cpu"

    @property
    def name(self) -> str:
        """Rule name plus wildcards, e.g. ``train_classifier[arch=simple,dataset=peppers]``."""
        inner = ",".join(f"{key}={value}" for key, value in sorted(self.wildcards.items()))
        return f"{self.rule}[{inner}]" if inner else self.rule

    def __enter__(self) -> Job:
        self._started = _now()
        self._clock = time.perf_counter()
        self._configure_logging()
        try:
            self._prepare()
        except Exception:
            LOGGER.exception("job %s could not start", self.name)
            raise
        if memory.peak_rss_supported():
            memory.reset_peak_rss()
        self._git = provenance.git_state()
        self.run = self._open_wandb()
        LOGGER.info("job %s started on %s", self.name, _describe_device(self.device))
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc is not None:
            LOGGER.error("job %s failed", self.name, exc_info=(exc_type, exc, traceback))
        else:
            provenance.write_records(self._job_record(), [str(path) for path in self.smk.output])
            LOGGER.info("job %s finished in %.1f s", self.name, time.perf_counter() - self._clock)
        self.run.finish(exit_code=0 if exc is None else 1)
        for handler in logging.getLogger().handlers:
            handler.close()
        logging.getLogger().handlers.clear()
        memory.exempt_objects_from_collection()

    def _prepare(self) -> None:
        """What the job needs before it computes: checked inputs, seeds, threads, allocator and
        device."""
        self._verify_fetched_inputs()
        if self.seed is not None:
            seed_everything(self.seed)
        if "torch" in sys.modules:  # the script computes with torch (it imported it)
            sys.modules["torch"].set_num_threads(self.torch_threads)
            memory.keep_tensor_blocks_in_the_heap()
        if self.uses_device:
            exact_gpu_arithmetic()
        self.device = self.compute_device()
        budget.set_images_per_pass(self.images_per_pass)

    def _verify_fetched_inputs(self) -> None:
        """No job reads a fetched file whose checksum is not the configured one."""
        if not self.config.get("downloads"):
            return
        download.verify_fetched(self.config, [str(path) for path in self.smk.input])

    def _configure_logging(self) -> None:
        handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
        for log_file in self.smk.log:
            Path(log_file).parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.FileHandler(log_file, mode="w"))
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            handlers=handlers,
            force=True,
        )
        logging.captureWarnings(True)

    def _open_wandb(self):
        """This job's W&B run, in its own directory ``wandb/<rule>/<wildcards>/``, tagged and
        grouped by paper and rule, with the parameters, seed, wildcards and git state as its
        configuration."""
        import wandb

        mode = os.environ.get("WANDB_MODE", "offline")
        if mode != "online":
            os.environ.pop("WANDB_API_KEY", None)
        inner = ",".join(f"{key}={value}" for key, value in sorted(self.wildcards.items()))
        slug = re.sub(r"[^A-Za-z0-9_.=,-]+", "_", inner) or "all"
        run_dir = (WANDB_ROOT / self.rule / slug).resolve()
        run_dir.mkdir(parents=True, exist_ok=True)
        _supersede_offline_runs(run_dir)
        os.environ.setdefault("WANDB_CACHE_DIR", str(run_dir / "cache"))
        os.environ.setdefault("WANDB_DATA_DIR", str(run_dir / "data"))
        settings = wandb.Settings(
            console="off", silent=True, save_code=False, disable_git=True, x_disable_stats=True
        )
        config = {**self.params, "seed": self.seed, "wildcards": self.wildcards,
                  "git": self._git}
        return wandb.init(
            project=self.paper,
            group=self.rule,
            job_type=self.rule,
            tags=[self.paper, self.rule],
            name=self.name,
            config=config,
            dir=str(run_dir),
            mode=mode,
            settings=settings,
        )

    def log(self, metrics: dict[str, Any], step: int | None = None) -> None:
        """Log scalar metrics to W&B and the job's log file."""
        self.run.log(_plain(metrics), step=step)
        LOGGER.info("%s", ", ".join(f"{key}={value}" for key, value in metrics.items()))

    def log_figure(self, key: str, image_path: str | os.PathLike) -> None:
        """Log a rendered figure (PNG) to W&B."""
        import wandb

        self.run.log({key: wandb.Image(str(image_path))})

    def log_images(self, key: str, images, step: int | None = None) -> None:
        """Log a batch of (B, C, H, W) images in [0, 1] (a tensor or array) to W&B, as one grid."""
        import wandb

        array = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images)
        grid = np.concatenate(list(array.clip(0, 1).transpose(0, 2, 3, 1)), axis=1)
        self.run.log({key: wandb.Image((grid * 255).round().astype(np.uint8))}, step=step)

    def log_table(self, key: str, frame) -> None:
        """Log a pandas DataFrame to W&B as a table."""
        import wandb

        self.run.log({key: wandb.Table(dataframe=frame)})

    def save_table(self, key: str, frame, path: str | os.PathLike) -> None:
        """Write a pandas DataFrame as CSV to ``path`` atomically and log it to W&B as ``key``."""
        with atomic_path(path) as temporary:
            frame.to_csv(temporary, index=False)
        self.log_table(key, frame)

    def _wandb_record(self) -> dict[str, Any]:
        mode = os.environ.get("WANDB_MODE", "offline")
        if mode == "disabled":
            return {"mode": mode, "run_id": None, "dir": None}
        run_dir = Path(self.run.dir).parent
        return {"mode": mode, "run_id": self.run.id, "dir": os.path.relpath(run_dir)}

    def _execution_record(self) -> dict[str, Any]:
        """How the job ran, not what it computed: the machine, its processor and, under
        SLURM, the job's id there; the seconds since its process started (imports and W&B
        included, which ``wall_seconds`` leaves out); the memory budget, the torch threads,
        and the peak memory (resident set since the job started, and CUDA allocations)."""
        torch = sys.modules.get("torch")  # jobs that never imported torch do not pay for it
        peak_rss = memory.peak_rss_mib() if memory.peak_rss_supported() else None
        peak_cuda = memory.peak_cuda_mib() if torch else None
        return {"host": socket.gethostname(),
                "cpu": _describe_cpu(torch),
                "process_seconds": round(time.time() - psutil.Process().create_time(), 3),
                "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
                "images_per_pass": budget.images_per_pass(),
                "threads": torch.get_num_threads() if torch else None,
                "peak_rss_mib": None if peak_rss is None else round(peak_rss, 1),
                "peak_cuda_mib": None if peak_cuda is None else round(peak_cuda, 1)}

    def _job_record(self) -> dict[str, Any]:
        return {
            "record_version": provenance.RECORD_VERSION,
            "rule": self.rule,
            "wildcards": self.wildcards,
            "params": self.params,
            "inputs": provenance.hash_files([str(path) for path in self.smk.input]),
            "log": [str(path) for path in self.smk.log],
            "code": {
                **self._git,
                "script": self.script.relative_to(PROJECT_ROOT).as_posix(),
                "modules": provenance.project_modules(),
            },
            "packages": provenance.imported_packages(),
            "device": _describe_device(self.device),
            "execution": self._execution_record(),
            "seed": self.seed,
            "started": self._started,
            "finished": _now(),
            "wall_seconds": round(time.perf_counter() - self._clock, 3),
            "wandb": self._wandb_record(),
        }
