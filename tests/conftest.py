"""Shared fixtures: copies of the repository in which the workflow really runs."""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from run_groups import (
    pytest_collection_modifyitems,  # noqa: F401 (a hook pytest finds here)
    share_the_cores_between_workers,
)

from common.memory import keep_tensor_blocks_in_the_heap
from common.miniature.run import copy_project

REPO = Path(__file__).resolve().parents[1]
PLANTED_API_KEY = "planted-wandb-key-3f9c2a7d1e"


def pytest_configure(config):
    """The tests compute in this process with the allocator settings every job uses, on the
    worker's share of the cores."""
    keep_tensor_blocks_in_the_heap()
    share_the_cores_between_workers()


def run(command: list[str], cwd: Path, env: dict | None = None, check: bool = True,
        timeout: float | None = None):
    """Run a command, return the completed process; on failure show its output.

    ``env`` overrides the environment; a value of None removes that variable. A command
    still running after ``timeout`` seconds is killed and fails the test.
    """
    environment = {**os.environ, **(env or {})}
    environment = {key: value for key, value in environment.items() if value is not None}
    try:
        result = subprocess.run(command, cwd=cwd, env=environment, capture_output=True,
                                text=True, timeout=timeout)
    except subprocess.TimeoutExpired as hung:
        raise AssertionError(f"{command} still ran after {timeout} s:\n"
                             f"{str(hung.stdout)[-4000:]}\n{str(hung.stderr)[-6000:]}") from None
    if check and result.returncode != 0:
        raise AssertionError(f"{command} failed ({result.returncode}):\n"
                             f"{result.stdout[-4000:]}\n{result.stderr[-6000:]}")
    return result


def snakemake(args: list[str], cwd: Path, env: dict | None = None, check: bool = True,
              timeout: float | None = None):
    """Run Snakemake with this interpreter in ``cwd``."""
    return run([sys.executable, "-m", "snakemake", *args], cwd, env, check, timeout)


def lineage(args: list[str], cwd: Path, check: bool = True):
    """Run ``python -m common.lineage`` in ``cwd`` (which imports that copy's code)."""
    return run([sys.executable, "-m", "common.lineage", *args], cwd, check=check)


def copy_repository(destination: Path) -> Path:
    """Copy the files git would ship into ``destination`` and commit them in a new repo."""
    return copy_project(destination, REPO)


def torchvision_resnet18_and_zoo_copy(num_classes: int):
    """torchvision's resnet18 (random weights, batch-norm statistics other than the identity)
    and the zoo's ResNet18 with the imagenet stem holding the same tensors: only the names of
    the stem and of the projection shortcuts differ."""
    import torch
    import torchvision

    from common.models import build_classifier

    torch.manual_seed(0)
    reference = torchvision.models.resnet18(weights=None, num_classes=num_classes)
    for module in reference.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    renamed = {}
    for key, value in reference.state_dict().items():
        key = key.replace("downsample.", "shortcut.")
        renamed[key.replace("conv1.", "stem.0.", 1) if key.startswith("conv1.")
                else key.replace("bn1.", "stem.1.", 1) if key.startswith("bn1.") else key] = value
    model = build_classifier("resnet18", num_classes=num_classes, image_size=224, stem="imagenet")
    model.load_state_dict(renamed)  # strict: the same tensors with the same shapes
    return reference.eval(), model.eval()


@pytest.fixture(scope="module")
def resnet():
    """A small ResNet18 of the zoo (4 classes, 16 px) whose batch norms hold non-trivial
    running statistics, in eval mode: the network most attribution tests explain."""
    import torch

    from common.models import build_classifier

    torch.manual_seed(0)
    model = build_classifier("resnet18", num_classes=4, image_size=16, base_width=4)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.rand(8, 3, 16, 16))
    return model.eval()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Selenium. Needs Debian's chromium and chromium-driver
    (``make browser`` installs them): skipped when they are missing, except under CI, where
    their absence fails the test."""
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver are required under CI (make browser)",
                        pytrace=False)
        pytest.skip("chromium or chromedriver not installed (make browser)")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(chromedriver), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def pristine_copy(tmp_path_factory) -> Path:
    """A copy of the repository in which nothing has run (for dry runs and lint)."""
    return copy_repository(tmp_path_factory.mktemp("pristine"))


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A copy on which the whole workflow ran with tests/tiny.yaml, plus its HTML report.

    A W&B API key is planted in the environment to prove that nothing persists it.
    """
    copy = copy_repository(tmp_path_factory.mktemp("tiny"))
    env = {"WANDB_API_KEY": PLANTED_API_KEY, "WANDB_MODE": None}
    args = ["--cores", "2", "--configfile", "tests/tiny.yaml"]
    snakemake(args, copy, env)
    snakemake([*args, "--report", "report.html"], copy, env)
    return copy


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files from the fixture's folder, honouring ``Range: bytes=N-`` (206, or 416
    past the end) except for files named ``whole-*``, sent whole (200) as by a server
    without range support."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        if path.name.startswith("whole-"):
            match = None
        start = int(match.group(1)) if match else 0
        if start >= len(data) > 0:
            self.send_error(416)
            return
        self.send_response(206 if match else 200)
        if match:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server(tmp_path):
    """A folder and the URL of an HTTP server on 127.0.0.1 that serves it (range requests
    too): the stand-in for a publisher in download tests; nothing leaves the machine."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(_RangeHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
