"""How ``make test`` shares the suite between two pytest-xdist workers.

Four fixtures run a workflow or a cluster and take most of the suite's time. ``pytest -n 2
--dist loadgroup --no-loadscope-reorder`` sends every test in one ``xdist_group`` to one
worker, so a fixture is built once, by the worker that runs all the tests using it. The
groups come first, longest first: one worker starts the paper miniature while the other runs
the known-answer run, then the tiny run and the cluster, then the tests that use no run
fixture. Each worker fills the core that the other's run leaves idle (a workflow's first and
last jobs, the cluster's waits, the tests that compute on one core).
"""

import os

import pytest

#: The fixtures that run a workflow or a cluster, longest first.
RUN_FIXTURES = ("miniature", "full_run", "tiny_run", "cluster")


def _run_fixture_rank(item) -> int:
    """The position in ``RUN_FIXTURES`` of the first run fixture a test uses, directly or
    through another fixture; ``len(RUN_FIXTURES)`` for a test that uses none."""
    used = [name for name in RUN_FIXTURES if name in item.fixturenames]
    return RUN_FIXTURES.index(used[0]) if used else len(RUN_FIXTURES)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Mark each test with the group of the run fixture it uses, and put the groups in
    ``RUN_FIXTURES``' order ahead of the other tests. Runs before xdist's own hook, which
    reads the marks; without xdist the marks do nothing and only the order remains."""
    for item in items:
        rank = _run_fixture_rank(item)
        if rank < len(RUN_FIXTURES):
            item.add_marker(pytest.mark.xdist_group(RUN_FIXTURES[rank]))
    items.sort(key=_run_fixture_rank)


def share_the_cores_between_workers():
    """In an xdist worker, give torch the worker's share of the cores (one each for two
    workers on two cores). torch's own default, every core, made the tests that compute in
    the workers' processes several times as long while both workers ran them (ResNet-50's
    resumption test 6.6 to 39 s)."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:
        import torch

        torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) // int(workers)))
