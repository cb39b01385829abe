"""The long workflow runs that start with the session: what a failure tells the test that
waits, what a session cut short leaves behind, and the order the tests then run in."""

import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import conftest
import pytest
from conftest import BackgroundRun


def test_a_failed_run_fails_the_waiting_test_with_its_output(tmp_path):
    command = [sys.executable, "-c", "import sys; print('the culprit is here'); sys.exit(3)"]
    run = BackgroundRun(command, tmp_path, tmp_path / "run.log")
    with pytest.raises(AssertionError, match=r"(?s)failed \(3\).*the culprit is here"):
        run.wait()


def test_a_finished_run_gives_the_folder_it_built(tmp_path):
    built = tmp_path / "built"
    command = [sys.executable, "-c", f"import pathlib; pathlib.Path({str(built)!r}).mkdir()"]
    run = BackgroundRun(command, tmp_path, tmp_path / "run.log", builds=built)
    assert run.wait() == built
    assert built.is_dir()


def test_the_run_computes_below_the_tests_priority(tmp_path):
    command = [sys.executable, "-c", "import os; print(os.getpriority(os.PRIO_PROCESS, 0))"]
    run = BackgroundRun(command, tmp_path, tmp_path / "run.log")
    run.wait()
    assert int(run.log.read_text()) == min(os.getpriority(os.PRIO_PROCESS, 0) + 10, 19)


def _alive(pid: int) -> bool:
    """Whether ``pid`` names a process that has not exited (a zombie counts as exited)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return status.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc")
def test_stopping_a_run_ends_the_processes_it_started(tmp_path):
    """A session cut short (a failure with -x, Ctrl-C) leaves no Snakemake job computing."""
    child = tmp_path / "child.pid"
    script = ("import subprocess, sys, time, pathlib\n"
              "job = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
              f"pathlib.Path({str(child)!r}).write_text(str(job.pid))\n"
              "time.sleep(600)\n")
    run = BackgroundRun([sys.executable, "-c", script], tmp_path, tmp_path / "run.log")
    deadline = time.monotonic() + 60
    while not child.exists() or not child.read_text():
        assert time.monotonic() < deadline, run.log.read_text()
        time.sleep(0.1)
    run.stop()
    assert run.process.poll() is not None
    pid = int(child.read_text())
    deadline = time.monotonic() + 30
    while _alive(pid):
        assert time.monotonic() < deadline, f"the run's child {pid} outlived stop()"
        time.sleep(0.1)


def test_the_modules_that_wait_for_a_session_run_go_last(monkeypatch):
    monkeypatch.setitem(conftest.SESSION_RUNS, "long_run", lambda factory: None)
    items = [SimpleNamespace(path=Path(name), fixturenames=fixtures) for name, fixtures in (
        ("test_a.py", ["tmp_path"]), ("test_b.py", ["scales"]), ("test_b.py", ["long_run"]),
        ("test_c.py", []), ("test_d.py", ["long_run", "tmp_path"]), ("test_e.py", ["scales"]))]
    conftest.pytest_collection_modifyitems(None, None, items)
    assert [item.path.name for item in items] == [
        "test_a.py", "test_c.py", "test_e.py", "test_b.py", "test_b.py", "test_d.py"]
