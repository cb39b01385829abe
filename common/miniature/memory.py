"""Estimated peak memory of the paper scale's largest passes, measured on the CPU.

    python -m common.miniature.memory [--images-per-pass 64] [--device cpu|cuda]

At the paper scale a rule's peak memory is set by its largest pass: a training step at
the paper's batch size, or an explanation pass of ``images_per_pass`` images through the
explained network with the gradient of its input (the memory budget bounds every other
pass). For each network and resolution the paper scale uses, this measures the peak
memory such a pass adds, at 4 and at 8 images, and extends the line through the two to
the full batch (activations grow linearly with the images; weights, gradients and Adam's
state do not). On the CPU the measure is the peak resident set, with glibc told to map
every block above 64 KiB on its own (``MALLOC_MMAP_THRESHOLD_``), so that a freed tensor
leaves the resident set at once and the peak is that of live tensors (repeatable to
0.5 %); on CUDA the peak allocated memory, measured at the full batch directly. CPU
tensors have the sizes CUDA tensors have, so the CPU line estimates the GPU's
allocations, without cuDNN's workspaces and the CUDA context (about 0.5 GiB more).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass

from common import PROJECT_ROOT
from common.config import layered

#: The image counts the CPU line goes through.
POINTS = (4, 8)
#: glibc maps each allocation above this many bytes on its own, and unmaps it when freed.
MMAP_THRESHOLD = 65536


@dataclass(frozen=True)
class Pass:
    """One network at one resolution, in training or explanation."""

    name: str
    network: str  # a zoo architecture or a torchvision / EfficientNet ImageNet model
    size: int
    kind: str  # "train": a training step; "explain": the input gradient of a target logit
    batch: int  # training: the paper's batch size; explain: the memory budget
    options: tuple = ()  # a zoo architecture's constructor options
    zoo: bool = True  # the project's classifier zoo, or an ImageNet model


def paper_passes(images_per_pass: int) -> list[Pass]:
    """The largest passes of config/paper.yaml's networks, with their paper settings."""
    paper = layered("config/paper.yaml")
    training, datasets = paper["training"], paper["datasets"]

    def zoo(arch: str, size: int, kind: str) -> Pass:
        options = tuple(sorted(training[arch]["options"].items()))
        batch = training[arch]["batch_size"] if kind == "train" else images_per_pass
        return Pass(f"{arch} {size} px", arch, size, kind, batch, options)

    generated = datasets["peppers"]["image_size"]
    scenes = datasets["scenes"]["image_size"]
    photos = paper["cartoonx"]["evaluations"]["imagenet_vgg16"]["image_size"]
    return [
        *(zoo(arch, generated, kind) for arch in ("simple", "resnet18")
          for kind in ("train", "explain")),
        *(zoo(arch, scenes, kind) for arch in ("resnet50", "vgg", "vit")
          for kind in ("train", "explain")),
        *(Pass(f"{name} {size} px", name, size, "explain", images_per_pass, zoo=False)
          for name, size in (("vgg16", photos), ("vgg16", scenes),
                             ("mobilenet_v3_small", photos), ("efficientnet_lite0", photos))),
    ]


#: Run in a fresh interpreter per pass: the peak memory one pass adds at 4 and 8 images, or at
#: ``batch`` on CUDA (a fresh process, so no other network's memory is cached).
_MEASURE = """
import json, sys, torch
from common import memory
from common.miniature.memory import POINTS, build
spec = json.loads(sys.argv[1])
device = spec["device"]
model = build(spec).to(device)
optimiser = torch.optim.Adam(model.parameters()) if spec["kind"] == "train" else None
classes = 20 if spec["zoo"] else 1000

def step(count):
    x = torch.rand(count, 3, spec["size"], spec["size"], device=device)
    target = torch.arange(count, device=device) % classes
    if optimiser is None:
        x.requires_grad_(True)
        torch.autograd.grad(model(x).gather(1, target.view(-1, 1)).sum(), x)
    else:
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(model(x), target).backward()
        optimiser.step()

step(1)
if device == "cuda":
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    step(spec["batch"])
    print(json.dumps({"full": torch.cuda.max_memory_allocated() / 2**20}))
else:
    before, peaks = memory.current_rss_mib(), {}
    for count in POINTS:
        memory.reset_peak_rss()
        step(count)
        peaks[count] = memory.peak_rss_mib() - before
    print(json.dumps(peaks))
"""


def build(spec: dict):
    """The network of a measured pass (random weights: memory does not depend on them)."""
    from common.models import build_classifier
    from common.models.pretrained import efficientnet_lite0, untrained_imagenet_architecture

    if not spec["zoo"]:
        model = efficientnet_lite0() if spec["network"] == "efficientnet_lite0" else \
            untrained_imagenet_architecture(spec["network"])
        return model.requires_grad_(spec["kind"] == "train").eval()
    model = build_classifier(spec["network"], num_classes=20, image_size=spec["size"],
                             **spec["options"])
    return model.train() if spec["kind"] == "train" else model.eval()


def estimate(item: Pass, device: str) -> float:
    """MiB one pass of ``item.batch`` images adds at its peak (CPU: along the measured line)."""
    spec = {"network": item.network, "size": item.size, "kind": item.kind, "batch": item.batch,
            "device": device, "zoo": item.zoo, "options": dict(item.options)}
    environment = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD)}
    result = subprocess.run([sys.executable, "-c", _MEASURE, json.dumps(spec)], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, check=True, env=environment)
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    if "full" in measured:
        return measured["full"]
    low, high = (measured[str(count)] for count in POINTS)
    slope = (high - low) / (POINTS[1] - POINTS[0])
    return low + slope * (item.batch - POINTS[0])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images-per-pass", type=int, default=64)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args(argv)
    print("| pass | kind | images | estimated peak GiB |\n|---|---|---:|---:|")
    for item in paper_passes(args.images_per_pass):
        print(f"| {item.name} | {item.kind} | {item.batch} | "
              f"{estimate(item, args.device) / 1024:.1f} |", flush=True)


if __name__ == "__main__":
    main()
