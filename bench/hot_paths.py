"""Benchmark: the embedded run's hot paths, as computed before and after their speed-ups.

    python -m bench.hot_paths [--repeats 3] [--threads 1] [--rows TEXT ...]

Each row times one piece of work both ways in the same process, at the embedded
configuration's sizes (config/config.yaml), on random inputs and untrained weights
(speed does not depend on the values), with the workflow's one thread per job:

- PV decoder training, three epochs of 256 images: the frozen encoder's features
  recomputed for every batch (before) or computed once per run (after).
- The zoo's ResNet18 (inference, input gradients, training steps): each block's residual
  sum as a stacked copy summed over its last axis (before, the form LRP's rule for sums
  reads) or as a plain addition (after; LRP's canonizer stacks it only while it runs).
- A job's start-up: a fresh interpreter importing one script's modules and seeding torch
  as a job does, with (before) or without (after) what those imports used to pull in:
  torchvision and zennit (through the zoo's ResNet and LRP) and ``torch._inductor.config``
  (through ``torch.use_deterministic_algorithms``).
- A job's record of the packages it imported: ``importlib.metadata``'s parsers (before)
  or RECORD and METADATA read as text (after).
- Planning the tiny workflow (``snakemake -n``, every Snakemake call parses the rules):
  with (before) or without (after) torch, SciPy's statistics and scikit-image's
  segmentation, which the rules' imports and the configuration checks used to pull in.
- DXAI's generator and discriminator (the embedded architecture at 32 px; training
  iterations and a decomposition of 64 images): 2x pooling and nearest upsampling by
  PyTorch's kernels (before) or by strided additions and broadcast copies (after).
- ResNet18 training in a fresh process (start-up included): glibc's default allocator
  settings (before) or tensor-sized blocks kept in the heap, as every job sets (after).
- EfficientNet-Lite0 (CartoonX's model) at CartoonX's 128 px: every "same" padding as a
  ``ZeroPad2d`` before its convolution (before, the library's) or, where symmetric,
  inside the convolution (after).
- A job's process short of its work (a fresh interpreter importing what an explanation job
  imports): its shutdown collecting garbage over those objects (before) or with them
  exempted, as every job ends now (after).

The median of ``repeats`` timed calls after one warm-up, the two ways interleaved so
that both see the same machine. ``--rows`` keeps the rows whose name contains one of the
texts. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from common import PROJECT_ROOT, provenance
from common.config import layered
from common.models import build_classifier
from common.models.resnet import BasicBlock
from common.models.train import epoch_generator
from papers.dxai import model as dxai_model
from papers.dxai.decompose import Decomposer
from papers.dxai.training import Networks, Settings, draw_batch, optimisers, train_step
from papers.pv.decoder import Decoder, Encoder, loss_terms, total_loss
from papers.pv.training import DecoderSettings, decoder_kwargs, train_decoder


def _seconds(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def before_and_after(before: Callable[[], object], after: Callable[[], object],
                     repeats: int) -> tuple[float, float]:
    """Median seconds of each, one warm-up call each, then the two alternately."""
    before(), after()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        times[0].append(_seconds(before))
        times[1].append(_seconds(after))
    return statistics.median(times[0]), statistics.median(times[1])


def decoder_training_encoding_every_batch(encoder: Encoder, decoder: Decoder,
                                          images: torch.Tensor, settings: DecoderSettings,
                                          seed: int = 0) -> None:
    """PV's decoder training as it was before the features were computed once per run:
    the frozen encoder's features recomputed under no_grad for every batch of every epoch
    (the same shuffles and loss as ``train_decoder``; no checkpoints)."""
    optimiser = torch.optim.Adam(decoder.parameters(), lr=settings.learning_rate)
    decoder.train()
    for epoch in range(settings.epochs):
        order = torch.randperm(len(images), generator=epoch_generator(seed, epoch))
        for start in range(0, len(order), settings.batch_size):
            x = images[order[start:start + settings.batch_size]]
            with torch.no_grad():
                features = encoder(x)
            loss = total_loss(loss_terms(encoder, decoder(features), x, features),
                              settings.weights)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()


def pv_decoder_epochs(config: dict, folder: Path, epochs: int = 3,
                      count: int = 256) -> tuple[Callable, Callable]:
    """``epochs`` epochs of decoder training with the paper's loss, features per batch or once
    (the checkpoint in ``folder``)."""
    pv, size = config["pv"], config["datasets"]["scenes"]["image_size"]
    classifier = build_classifier("resnet18", num_classes=6, image_size=size,
                                  **{**config["training"]["resnet18"]["options"],
                                     "feature_norm": True}).eval()
    encoder = Encoder(classifier)
    images = torch.rand(count, 3, size, size)
    settings = DecoderSettings.from_config({**pv["decoder"], "epochs": epochs},
                                           pv["loss_weights"]["paper"])
    kwargs = decoder_kwargs(encoder, size, 3, settings.width_scale)

    def per_batch():
        decoder_training_encoding_every_batch(encoder, Decoder(**kwargs), images, settings)

    def once_per_run():
        checkpoint = folder / "decoder.checkpoint"
        checkpoint.unlink(missing_ok=True)
        train_decoder(encoder, Decoder(**kwargs), images, settings, 0, "cpu", checkpoint)

    return per_batch, once_per_run


def _stacked_residual_forward(block: BasicBlock, x: torch.Tensor) -> torch.Tensor:
    """The block's forward as it was: its two terms stacked on a last axis and summed."""
    stacked = torch.stack([block.residual(x), block.shortcut(x)], dim=-1)
    return block.relu2(torch.sum(stacked, dim=-1))


@contextlib.contextmanager
def stacked_residual_sums():
    """Every zoo ResNet18 block adds as it did before, while inside."""
    plain = BasicBlock.forward
    BasicBlock.forward = _stacked_residual_forward
    try:
        yield
    finally:
        BasicBlock.forward = plain


def resnet18_work(config: dict, work: str, count: int = 256) -> tuple[Callable, Callable]:
    """The embedded ResNet18 (config's options and the cars' image size) on ``count`` images:
    ``inference`` (no-grad logits), ``gradients`` (input gradients of one logit) or
    ``training`` (Adam steps on batches of the configured size)."""
    size = config["datasets"]["cars"]["image_size"]
    training = config["training"]["resnet18"]
    model = build_classifier("resnet18", num_classes=2, image_size=size, **training["options"])
    images = torch.rand(count, 3, size, size, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(count) % 2

    def inference():
        with torch.no_grad():
            model.eval()(images)

    def gradients():
        x = images.clone().requires_grad_(True)
        torch.autograd.grad(model.eval()(x)[:, 0].sum(), x)

    def training_steps():
        optimiser = torch.optim.Adam(model.parameters(), lr=training["learning_rate"])
        model.train()
        for x, y in zip(images.split(training["batch_size"]),
                        labels.split(training["batch_size"]), strict=True):
            optimiser.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimiser.step()

    step = {"inference": inference, "gradients": gradients, "training": training_steps}[work]

    def before():
        with stacked_residual_sums():
            step()

    return before, step


@contextlib.contextmanager
def pytorchs_pooling_and_upsampling():
    """DXAI's networks pool and upsample with F.avg_pool2d and F.interpolate, while inside."""
    ours = dxai_model.average_pool_2x, dxai_model.upsample_nearest_2x
    dxai_model.average_pool_2x = lambda x: torch.nn.functional.avg_pool2d(x, 2)
    dxai_model.upsample_nearest_2x = lambda x: torch.nn.functional.interpolate(
        x, scale_factor=2, mode="nearest")
    try:
        yield
    finally:
        dxai_model.average_pool_2x, dxai_model.upsample_nearest_2x = ours


def dxai_work(config: dict, work: str) -> tuple[Callable, Callable]:
    """DXAI at the embedded architecture and the peppers' size (a zoo ResNet18 as the frozen
    classifier): ``training`` (5 iterations) or ``decomposition`` (64 images, no grad)."""
    dxai, size = config["dxai"], config["datasets"]["peppers"]["image_size"]
    arch = dxai_model.Architecture(image_size=size, channels=3, classes=3,
                                   **dxai["architecture"])
    settings = Settings.from_config(dxai["training"], dxai["loss_weights"])
    classifier = build_classifier("resnet18", num_classes=3, image_size=size,
                                  **config["training"]["resnet18"]["options"])
    classifier = classifier.eval().requires_grad_(False)
    images = torch.rand(64, 3, size, size, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(len(images)) % 3
    nets = Networks(arch)
    optim = optimisers(nets, settings)
    decomposer = Decomposer(arch).eval()

    def training():
        for iteration in range(5):
            batch = draw_batch(images, labels, arch, settings, 0, iteration, "cpu")
            train_step(nets, classifier, batch, optim, settings)

    def decomposition():
        with torch.no_grad():
            decomposer(images, labels)

    step = {"training": training, "decomposition": decomposition}[work]

    def before():
        with pytorchs_pooling_and_upsampling():
            step()

    return before, step


def efficientnet_gradients(config: dict, count: int = 16) -> tuple[Callable, Callable]:
    """Input gradients of one logit for ``count`` images at CartoonX's configured size, on
    the library's EfficientNet-Lite0 (before) and on the project's (after)."""
    from common.models.pretrained import efficientnet_lite0, shipped_efficientnet_lite0

    size = config["cartoonx"]["evaluations"]["photos_efficientnet_lite0"]["image_size"]
    images = torch.rand(count, 3, size, size, generator=torch.Generator().manual_seed(0))

    def gradients(model: torch.nn.Module) -> Callable:
        def step():
            x = images.clone().requires_grad_(True)
            torch.autograd.grad(model(x)[:, 0].sum(), x)
        return step

    return gradients(shipped_efficientnet_lite0()), gradients(efficientnet_lite0())


#: A child process's work: ResNet18 training steps at the embedded size, after the job's
#: allocator setting or without it.
ALLOCATOR_CHILD = """\
import torch
from bench.hot_paths import resnet18_work
from common.config import layered
from common.memory import keep_tensor_blocks_in_the_heap
torch.set_num_threads({threads})
if {heap}:
    keep_tensor_blocks_in_the_heap()
training = resnet18_work(layered("config/config.yaml"), "training", count=2560)[1]
training()
"""


def fresh_interpreter(code: str, cwd: Path = PROJECT_ROOT, **options) -> Callable:
    """A call that runs ``code`` in a fresh interpreter in ``cwd`` (``options`` go to
    ``subprocess.run``) and fails if it fails."""
    return lambda: subprocess.run([sys.executable, "-c", code], check=True, cwd=cwd, **options)


def allocator_settings(threads: int) -> tuple[Callable, Callable]:
    """80 ResNet18 training steps in a fresh interpreter with glibc's default allocator
    settings (before) or with the jobs' (after)."""
    def child(heap: bool) -> Callable:
        return fresh_interpreter(ALLOCATOR_CHILD.format(threads=threads, heap=heap))

    return child(False), child(True)


#: What a job's imports pulled in before they were deferred to the code that uses them.
EAGER_IMPORTS = "import torchvision, zennit, torch._inductor.config\n"


#: A training job's first optimiser step, which imports ``torch._dynamo`` whatever the job
#: imported before (torch's optimisers are wrapped to keep the compiler out).
FIRST_OPTIMISER_STEP = ("import torch\nlayer = torch.nn.Linear(2, 2)\n"
                        "optimiser = torch.optim.Adam(layer.parameters())\n"
                        "layer(torch.ones(1, 2)).sum().backward()\noptimiser.step()\n")


def job_start_up(script: str, then: str = "") -> tuple[Callable, Callable]:
    """A fresh interpreter importing ``script``'s module, seeding as a job does and running
    ``then``, with the old eager imports (before) or without them (after)."""
    seeding = (f"import {script}\nfrom common.tracking import seed_everything\n"
               f"seed_everything(0)\n{then}")
    return fresh_interpreter(EAGER_IMPORTS + seeding), fresh_interpreter(seeding)


#: What an explanation job imports, and the call with which every job now ends.
JOB_IMPORTS = "import torch, wandb, matplotlib.pyplot, captum.attr, scipy.stats\n"
JOB_END = ("from common.memory import exempt_objects_from_collection\n"
           "exempt_objects_from_collection()\n")


def job_exit() -> tuple[Callable, Callable]:
    """A fresh interpreter importing what a job imports and exiting: with the shutdown's
    collection over those objects (before) or with them exempted from it (after)."""
    return fresh_interpreter(JOB_IMPORTS), fresh_interpreter(JOB_IMPORTS + JOB_END)


def packages_by_standard_parsers() -> dict[str, str]:
    """What ``provenance.imported_packages`` returns, computed with ``importlib.metadata``'s
    ``packages_distributions`` and metadata parser, as it was before."""
    providers = importlib.metadata.packages_distributions()
    installed: dict[str, str] = {}
    for distribution in importlib.metadata.distributions():
        installed.setdefault(distribution.metadata["Name"], distribution.version)
    top_levels = {name.partition(".")[0] for name in list(sys.modules)}
    versions = {name: installed[name] for top_level in top_levels
                for name in providers.get(top_level, []) if name in installed}
    versions["python"] = platform.python_version()
    return dict(sorted(versions.items(), key=lambda item: item[0].lower()))


def imported_packages() -> tuple[Callable, Callable]:
    """The packages record both ways; they must agree."""
    if packages_by_standard_parsers() != provenance.imported_packages():
        raise AssertionError("the two ways of listing imported packages disagree")
    return packages_by_standard_parsers, provenance.imported_packages


#: What planning the workflow imported before the rules' helpers moved to the plan modules
#: (SciPy's statistics, scikit-image's segmentation) and before the method and architecture
#: registries named their code instead of importing it (torch).
PLANNING_IMPORTS = "import torch, scipy.stats, skimage.segmentation\n"


def planning(folder: Path) -> tuple[Callable, Callable]:
    """A dry run of the tiny workflow in a copy of the project (in ``folder``), with the
    old planning imports made first (before) or not (after)."""
    from common.miniature.run import copy_project

    copy = copy_project(folder / "project", PROJECT_ROOT)
    dry_run = ("import sys\nfrom snakemake.cli import main\n"
               "sys.argv = ['snakemake', '-n', '-q', '--configfile', 'tests/tiny.yaml']\nmain()\n")
    return (fresh_interpreter(PLANNING_IMPORTS + dry_run, copy, capture_output=True),
            fresh_interpreter(dry_run, copy, capture_output=True))


def hot_paths(config: dict, folder: Path) -> dict[str, Callable[[], tuple[Callable, Callable]]]:
    """Each row's name and how to build its (before, after) pair (files go to ``folder``)."""
    return {"PV decoder, 3 epochs of 256 images (paper loss)":
            lambda: pv_decoder_epochs(config, folder),
            "ResNet18, logits of 256 images (no grad)":
            lambda: resnet18_work(config, "inference"),
            "ResNet18, input gradients of 256 images":
            lambda: resnet18_work(config, "gradients"),
            "ResNet18, 8 training steps of 32 images":
            lambda: resnet18_work(config, "training"),
            "start-up of an explanation job (sanity_checks)":
            lambda: job_start_up("workflow.scripts.sanity_checks"),
            "start-up of a table job (DXAI's Table 3)":
            lambda: job_start_up("papers.dxai.scripts.table3"),
            "start-up of a training job (train_classifier)":
            lambda: job_start_up("workflow.scripts.train_classifier", FIRST_OPTIMISER_STEP),
            "a job's record of imported packages (this benchmark's imports)":
            imported_packages,
            "planning the tiny workflow (snakemake -n)":
            lambda: planning(folder),
            "DXAI, 5 training iterations (batch 8 x 2)":
            lambda: dxai_work(config, "training"),
            "DXAI, decomposition of 64 images":
            lambda: dxai_work(config, "decomposition"),
            "ResNet18, 80 training steps in a fresh process (start-up included)":
            lambda: allocator_settings(torch.get_num_threads()),
            "EfficientNet-Lite0, input gradients of 16 images at 128 px":
            lambda: efficientnet_gradients(config),
            "a job's imports and exit in a fresh process (torch, W&B, matplotlib, Captum, SciPy)":
            job_exit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rows", nargs="+", default=[""], metavar="TEXT")
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    config = layered("config/config.yaml")
    print(f"| hot path ({arguments.threads} thread) | before s | after s | after / before |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="hot-paths-") as folder:
        for name, build in hot_paths(config, Path(folder)).items():
            if not any(text in name for text in arguments.rows):
                continue
            torch.manual_seed(0)
            before, after = before_and_after(*build(), arguments.repeats)
            print(f"| {name} | {before:.3f} | {after:.3f} | {after / before:.2f} |", flush=True)


if __name__ == "__main__":
    main()
