"""Seconds per explanation of CartoonX, Pixel RDE and Integrated Gradients at the paper's settings.

The paper (Limitations) reports 45.10 s, 34.09 s and 0.48 s on a Titan RTX for
MobileNetV3-Small, 256 x 256 pixels, 16 noise samples and 2000 steps. Each RDE
step costs the same, so the RDE methods are timed over ``timed_steps`` steps
(after one warm-up step) and scaled to ``steps``; the table says which. Batch
sizes above one time a batch of copies of the image and report seconds per
image, which is what batching buys. The network's weights do not change its
cost: random weights stand in when no ImageNet weights are configured.
"""

import time
from dataclasses import replace

import pandas as pd
import torch

from common.data import load_split
from common.entry import snakemake_object
from common.explain import explain
from common.models.pretrained import load_imagenet_classifier, untrained_imagenet_architecture
from common.tracking import Job
from papers.cartoonx.evaluation import PAPER_SECONDS, select_images
from papers.cartoonx.rde import config_from_dict, explain_rde, representation_for


def synchronise(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def rde_seconds(model, x, method: str, settings: dict, steps: int) -> float:
    """Wall-clock seconds of ``steps`` RDE steps on the batch x, after a one-step warm-up."""
    config = config_from_dict({"samples": settings["samples"], "steps": steps,
                               "seed": 0, "progress": False, **settings["rde"]})
    representation = representation_for(method, config)
    explain_rde(model, x, representation, replace(config, steps=1))
    synchronise(str(x.device.type))
    started = time.perf_counter()
    explain_rde(model, x, representation, config)
    synchronise(str(x.device.type))
    return time.perf_counter() - started


def ig_seconds(model, x, ig_steps: int) -> float:
    """Wall-clock seconds of Integrated Gradients with ``ig_steps`` Riemann steps on x."""
    target = torch.zeros(len(x), dtype=torch.long, device=x.device)
    explain(model, x, target, "integrated_gradients", steps=ig_steps, rule="riemann_middle")
    synchronise(str(x.device.type))
    started = time.perf_counter()
    explain(model, x, target, "integrated_gradients", steps=ig_steps, rule="riemann_middle")
    synchronise(str(x.device.type))
    return time.perf_counter() - started


def timings(model, image, settings: dict, device: str) -> list[dict]:
    """Rows: method, batch size, steps timed, seconds per explanation, the paper's seconds."""
    rows = []
    for batch in settings["batch_sizes"]:
        x = image.expand(batch, -1, -1, -1).contiguous()
        for method in ("cartoonx", "pixel_rde"):
            seconds = rde_seconds(model, x, method, settings, settings["timed_steps"])
            per_image = seconds / batch * settings["steps"] / settings["timed_steps"]
            rows.append({"method": method, "batch": batch, "steps_timed": settings["timed_steps"],
                         "seconds_per_explanation": per_image})
        rows.append({"method": "integrated_gradients", "batch": batch,
                     "steps_timed": settings["ig_steps"],
                     "seconds_per_explanation": ig_seconds(model, x, settings["ig_steps"]) / batch})
    for row in rows:
        row.update(device=device, paper_seconds=PAPER_SECONDS[row["method"]],
                   paper_over_ours=PAPER_SECONDS[row["method"]] / row["seconds_per_explanation"])
    return rows


def main(smk) -> None:
    settings = smk.params.runtime
    with Job(smk, seed=0) as job:
        split = load_split(smk.input.manifest, "test")
        image, _ = select_images(split, 1, settings["image_size"], key="cartoonx.runtime",
                                 seed=0)
        weights = smk.params.weights
        model = (load_imagenet_classifier(settings["model"], weights) if weights
                 else untrained_imagenet_architecture(settings["model"])).to(job.device)
        table = pd.DataFrame(timings(model, image.to(job.device), settings, job.device))
        table["weights"] = "pretrained" if weights else "random (timing only)"
        job.save_table("runtime", table.round(4), smk.output.table)


if __name__ == "__main__":
    main(snakemake_object())
