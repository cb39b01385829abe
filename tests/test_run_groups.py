"""``make test`` runs the suite on two workers: each workflow fixture is built once, by one
worker, while the other worker runs other tests."""

import os
import sys

from conftest import REPO, run

SUITE_CONFTEST = '''
import os
from pathlib import Path

import pytest
from run_groups import pytest_collection_modifyitems  # noqa: F401 (the suite's hook)


def built(name):
    """Leave a file naming the fixture and the worker's process that built it."""
    Path(os.environ["BUILT"], f"{name}-{os.getpid()}").touch()


@pytest.fixture(scope="session")
def tiny_run():
    built("tiny_run")


@pytest.fixture(scope="module")
def miniature():
    built("miniature")


def pytest_configure(config):
    from run_groups import share_the_cores_between_workers

    share_the_cores_between_workers()
'''


def _module(fixture: str, count: int) -> str:
    """Tests alternating between one that uses ``fixture`` and one that uses none."""
    return "".join(f"def test_with_{i}({fixture}):\n    pass\n\n\n"
                   f"def test_without_{i}():\n    pass\n\n\n" for i in range(count))


def _run_suite(tmp_path, modules: dict[str, str], *options: str):
    """Write a suite of ``modules`` (name: source) with the fixtures above, run pytest on it
    with ``options``; return its output and the names of the files its tests left."""
    suite, built = tmp_path / "suite", tmp_path / "built"
    suite.mkdir()
    built.mkdir()
    (suite / "conftest.py").write_text(SUITE_CONFTEST)
    for name, source in modules.items():
        (suite / name).write_text(source)
    result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options,
                  "--basetemp", str(tmp_path / "tmp"), str(suite)], suite,
                 env={"BUILT": str(built), "PYTHONPATH": str(REPO / "tests")})
    return result.stdout, sorted(path.name for path in built.iterdir())


def test_each_run_fixture_is_built_once_and_the_two_on_different_workers(tmp_path):
    """Without the groups, xdist hands the tests out one by one: both workers would get tests
    of the tiny run and build it (the first two tests use it)."""
    _, built = _run_suite(tmp_path, {"test_a_tiny.py": _module("tiny_run", 4),
                                     "test_b_tiny.py": _module("tiny_run", 4),
                                     "test_c_miniature.py": _module("miniature", 3)},
                          "-n", "2", "--dist", "loadgroup", "--no-loadscope-reorder")
    builds = [name.split("-") for name in built]
    assert [fixture for fixture, _ in builds] == ["miniature", "tiny_run"], builds
    assert len({worker for _, worker in builds}) == 2, builds


def test_the_runs_come_first_the_longest_first(tmp_path):
    """The miniature's tests are collected last here, yet run first, then the tiny run's."""
    listed, _ = _run_suite(tmp_path, {"test_a_plain.py": "def test_plain():\n    pass\n",
                                      "test_b_tiny.py": _module("tiny_run", 1),
                                      "test_c_miniature.py": _module("miniature", 1)},
                           "--collect-only")
    order = [line.rsplit("/", 1)[-1] for line in listed.splitlines() if "::" in line]
    assert order == ["test_c_miniature.py::test_with_0", "test_b_tiny.py::test_with_0",
                     "test_a_plain.py::test_plain", "test_b_tiny.py::test_without_0",
                     "test_c_miniature.py::test_without_0"], order


def test_each_worker_computes_on_its_share_of_the_cores(tmp_path):
    """torch's default here would be every core; each of two workers gets half."""
    threads = ("import os\nfrom pathlib import Path\n\nimport torch\n\n\n"
               "def test_threads():\n"
               "    Path(os.environ['BUILT'], str(torch.get_num_threads())).touch()\n")
    _, built = _run_suite(tmp_path, {"test_threads.py": threads}, "-n", "2")
    assert built == [str(max(1, len(os.sched_getaffinity(0)) // 2))]
