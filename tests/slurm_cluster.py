"""A one-node SLURM cluster on 127.0.0.1 for the tests: munge, slurmctld and slurmd started
from a temporary folder, with no accounting storage (so ``sacct`` fails, as on many small
clusters), and stopped again.

The node has two partitions: ``main`` (the default) and ``gpu``, whose node advertises one
GPU as a count-only generic resource. No CUDA device stands behind it: a job routed there is
scheduled like a GPU job, and one that tries to compute on CUDA fails, which is how the tests
see both the routing and a failure under SLURM.

Debian's packages (slurm-wlm, slurmctld, slurmd, munge) provide the daemons; ``make slurm``
installs them when run as root.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol")
# Where clients find the cluster. SLURM_CONF would do for sbatch and squeue, but the
# executor's job step removes every SLURM_* variable but the job's identity from the
# environment of the srun it starts, so that srun reads this path.
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")


def missing_programs() -> list[str]:
    """The programs the cluster needs that are not installed."""
    return [name for name in DAEMONS if not shutil.which(name)
            and not Path("/usr/sbin", name).exists()]


def _program(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _memory_mb() -> int:
    """What the node offers: the machine's memory less 2 GiB for everything else."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024 - 2048
    raise RuntimeError("no MemTotal in /proc/meminfo")


class LocalSlurm:
    """Start with :meth:`start`, stop with :meth:`stop`; :attr:`environment` holds what a
    client needs (``SLURM_CONF``) on top of the caller's environment."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.node = socket.gethostname().split(".")[0]
        self.conf = self.folder / "slurm.conf"
        self.munge_socket = self.folder / "munge" / "munge.socket"
        self.environment = {**os.environ, "SLURM_CONF": str(self.conf)}

    def start(self, timeout: float = 60) -> None:
        """Write the configuration, start the three daemons, wait until the node is idle."""
        if SYSTEM_CONF.exists() or SYSTEM_CONF.is_symlink():
            raise RuntimeError(f"{SYSTEM_CONF} exists: this machine has a SLURM configuration "
                               "that the test cluster would replace")
        self._write_configuration()
        SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
        SYSTEM_CONF.symlink_to(self.conf)
        self._start_munge()
        subprocess.run([_program("slurmctld"), "-f", str(self.conf)], check=True,
                       env=self.environment)
        subprocess.run([_program("slurmd"), "-f", str(self.conf)], check=True,
                       env=self.environment)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = subprocess.run(["sinfo", "-h", "-o", "%T", "-n", self.node],
                                   env=self.environment, capture_output=True, text=True)
            if state.returncode == 0 and state.stdout.split()[:1] == ["idle"]:
                return
            time.sleep(1)
        raise RuntimeError(f"the SLURM node did not become idle in {timeout:.0f} s:\n"
                           + self.logs())

    def stop(self) -> None:
        """Stop slurmd, slurmctld and munged (each by its pid file), wait for them, and
        remove the link to this cluster's configuration."""
        if SYSTEM_CONF.is_symlink() and SYSTEM_CONF.resolve() == self.conf.resolve():
            SYSTEM_CONF.unlink()
        for pid_file in ("slurmd.pid", "slurmctld.pid", "munge/munged.pid"):
            path = self.folder / pid_file
            if not path.exists():
                continue
            pid = int(path.read_text().split()[0])
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)

    def logs(self) -> str:
        """The daemons' log files, for a failure message."""
        return "\n".join(f"--- {path.name}\n{path.read_text()[-3000:]}"
                         for path in sorted(self.folder.glob("*.log")))

    def _start_munge(self) -> None:
        folder = self.munge_socket.parent
        folder.mkdir(parents=True, exist_ok=True)
        key = folder / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        folder.chmod(0o700)
        subprocess.run([_program("munged"), "--force", f"--key-file={key}",
                        f"--socket={self.munge_socket}", f"--pid-file={folder / 'munged.pid'}",
                        f"--log-file={folder / 'munged.log'}",
                        f"--seed-file={folder / 'munged.seed'}"], check=True)

    def _write_configuration(self) -> None:
        for folder in ("state", "spool"):
            (self.folder / folder).mkdir(parents=True, exist_ok=True)
        cpus = os.cpu_count() or 1
        lines = [
            "ClusterName=xai-tests",
            f"SlurmctldHost={self.node}(127.0.0.1)",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            f"AuthInfo=socket={self.munge_socket}",
            f"StateSaveLocation={self.folder / 'state'}",
            f"SlurmdSpoolDir={self.folder / 'spool'}",
            f"SlurmctldPidFile={self.folder / 'slurmctld.pid'}",
            f"SlurmdPidFile={self.folder / 'slurmd.pid'}",
            f"SlurmctldLogFile={self.folder / 'slurmctld.log'}",
            f"SlurmdLogFile={self.folder / 'slurmd.log'}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "SchedulerType=sched/backfill",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_CPU_Memory",
            "ReturnToService=2",
            "MpiDefault=none",
            "MinJobAge=600",
            "GresTypes=gpu",
            f"NodeName={self.node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={_memory_mb()}"
            " Gres=gpu:1 State=UNKNOWN",
            f"PartitionName=main Nodes={self.node} Default=YES MaxTime=INFINITE State=UP",
            f"PartitionName=gpu Nodes={self.node} MaxTime=INFINITE State=UP",
        ]
        self.conf.write_text("\n".join(lines) + "\n")
        (self.folder / "gres.conf").write_text(
            f"NodeName={self.node} Name=gpu File=/dev/null Count=1\n")
