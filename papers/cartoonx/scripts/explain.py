"""CartoonX, Pixel RDE and the heatmap methods on the images of one evaluation (Figs. 5, 7).

Every method explains each image's predicted label. Saves one torch file with
the images, labels, the two RDE methods' masks and explanations, every
heatmap, and each method's seconds per image; the figure and curve rules read it.
"""

import time

import torch

from common import budget
from common.entry import snakemake_object
from common.explain import explain
from common.io import save_torch
from common.tracking import Job
from papers.cartoonx.evaluation import class_names, evaluation_inputs
from papers.cartoonx.rde import config_from_dict, explain_rde, representation_for

RDE_METHODS = ("cartoonx", "pixel_rde")


def rde_explanations(model, x, labels, settings: dict, seed: int) -> tuple[dict, dict, dict]:
    """Masks, explanation images and seconds per image of CartoonX and Pixel RDE."""
    masks, images, seconds = {}, {}, {}
    for method in RDE_METHODS:
        config = config_from_dict({**settings["rde"], "seed": seed,
                                   "sparsity": settings["sparsity"][method]})
        started = time.perf_counter()
        result = explain_rde(model, x, representation_for(method, config), config, labels)
        seconds[method] = (time.perf_counter() - started) / len(x)
        masks[method] = [mask.cpu() for mask in result.masks]
        images[method] = result.explanation.cpu()
    return masks, images, seconds


def heatmaps(model, x, labels, methods: list[str], method_params: dict) -> tuple[dict, dict]:
    """Each heatmap method's maps (B, C or 1, H, W) and seconds per image."""
    maps, seconds = {}, {}
    for method in methods:
        started = time.perf_counter()
        maps[method] = explain(model, x, labels, method,
                               **method_params.get(method, {})).detach().cpu()
        seconds[method] = (time.perf_counter() - started) / len(x)
    return maps, seconds


def main(smk) -> None:
    spec, settings = smk.params.evaluation, smk.params.settings
    with Job(smk, seed=settings["seed"]) as job:
        model, x, names, split = evaluation_inputs(
            spec, smk.params.weights, smk.input.manifest, job.device, spec["images"],
            spec["image_size"],
            key=f"cartoonx.evaluations.{smk.wildcards.evaluation}.images", seed=settings["seed"])
        with torch.no_grad():
            labels = budget.batched(lambda images: model(images).argmax(1), x)
        masks, explanations, seconds = rde_explanations(model, x, labels, settings,
                                                        settings["seed"])
        maps, heatmap_seconds = heatmaps(model, x, labels, spec["heatmap_methods"],
                                         settings["method_params"])
        seconds.update(heatmap_seconds)
        job.log({f"seconds_per_image/{method}": value for method, value in seconds.items()})
        categories = class_names(model, split)
        record = {"images": x.cpu(), "names": [str(name) for name in names],  # plain str: the
                  "labels": labels.cpu(),  # readers load tensors and plain data only
                  "label_names": [categories[int(label)] for label in labels],
                  "masks": masks, "explanations": explanations, "heatmaps": maps,
                  "seconds": seconds}
        save_torch(record, smk.output.explanations)


if __name__ == "__main__":
    main(snakemake_object())
