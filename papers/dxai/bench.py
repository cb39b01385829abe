"""Benchmark: DXAI training iterations per second and inference images per second.

    python -m papers.dxai.bench [--device cpu|cuda] [--repeats 3] [--scales embedded paper]
                                [--threads N]

Each scale takes its sizes from the configuration (embedded: config/config.yaml;
paper: config/paper.yaml merged over it): the ``dxai`` architecture and batch
size, the ResNet18 of the zoo at the peppers image size as the frozen
classifier, random images and untrained weights (speed does not depend on the
values). A training iteration is one discriminator and one generator update on
the duplicated batch (papers/dxai/training.py); inference is the decomposition
(one generator pass, no gradients) of a batch of 64 images (8 at paper scale,
where a batch of 64 holds 5 GB per activation on the CPU). The median of
``repeats`` timed calls after one warm-up. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import yaml

from common import PROJECT_ROOT
from common.models import build_classifier
from common.timing import images_per_second
from papers.dxai.decompose import Decomposer
from papers.dxai.model import Architecture
from papers.dxai.training import Networks, Settings, draw_batch, optimisers, train_step

CONFIG_FILES = {"embedded": ["config/config.yaml"],
                "paper": ["config/config.yaml", "config/paper.yaml"]}
INFERENCE_BATCH = {"embedded": 64, "paper": 8}


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = (_merge(base[key], value) if isinstance(value, dict)
                       and isinstance(base.get(key), dict) else value)
    return merged


def scale_config(scale: str) -> dict:
    """The configuration of ``scale`` as Snakemake would merge it."""
    config: dict = {}
    for name in CONFIG_FILES[scale]:
        config = _merge(config, yaml.safe_load(Path(PROJECT_ROOT, name).read_text()))
    return config


def bench_scale(scale: str, device: str, repeats: int) -> list[dict]:
    config = scale_config(scale)
    dxai, size = config["dxai"], config["datasets"]["peppers"]["image_size"]
    arch = Architecture(image_size=size, channels=3, classes=3, **dxai["architecture"])
    settings = Settings.from_config(dxai["training"], dxai["loss_weights"])
    classifier = build_classifier("resnet18", num_classes=3, image_size=size,
                                  **config["training"]["resnet18"]["options"])
    classifier = classifier.to(device).eval().requires_grad_(False)
    torch.manual_seed(0)
    nets = Networks(arch).to(device)
    optim = optimisers(nets, settings)
    images = torch.rand(max(settings.batch_size, 8), 3, size, size)
    labels = torch.arange(len(images)) % 3
    batch = draw_batch(images, labels, arch, settings, 0, 0, device)
    training = images_per_second(lambda: train_step(nets, classifier, batch, optim, settings),
                                 1, repeats, device)
    decomposer = Decomposer(arch).to(device).eval()
    x = torch.rand(INFERENCE_BATCH[scale], 3, size, size, device=device)
    classes = torch.arange(len(x), device=device) % 3
    inference = images_per_second(lambda: decomposer(x, classes), len(x), repeats, device)
    parameters = sum(p.numel() for p in nets.generator.parameters())
    common = {"scale": scale, "image size": size, "branches": arch.branches,
              "generator parameters": parameters, "device": device}
    return [{**common, "what": f"training iterations/s (batch {settings.batch_size} x 2)",
             "rate": training},
            {**common, "what": f"inference images/s (batch {len(x)})",
             "rate": inference}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scales", nargs="+", default=list(CONFIG_FILES),
                        choices=list(CONFIG_FILES))
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    rows = [row for scale in arguments.scales
            for row in bench_scale(scale, arguments.device, arguments.repeats)]
    print("| scale | image size | branches | generator parameters | device | threads | what "
          "| rate |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['scale']} | {row['image size']} | {row['branches']} | "
              f"{row['generator parameters'] / 1e6:.2f} M | {row['device']} | "
              f"{arguments.threads} | {row['what']} | {row['rate']:.2f} |")


if __name__ == "__main__":
    main()
