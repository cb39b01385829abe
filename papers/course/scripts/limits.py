"""The limits of saliency: the constructed detector (saturation and spurious sensitivity,
table and figure), and the randomised-network sanity check on the course's trained CNN.

Sanity check (Adebayo et al.): the network's stages are re-initialised from the
logits down (cascading); after every stage, each method's map is compared with the
trained network's (SSIM, Spearman, HOG correlation of absolute maps) and scored
against the explained object's mask. A method whose maps stay similar, and still
look like the object, after the whole network is random does not explain the model.
"""

import pandas as pd
import torch

from common.entry import snakemake_object
from common.explain import explain
from common.metrics.sanity import (
    SIMILARITIES,
    parameter_randomisation,
    randomisation_stages,
    reinitialise,
)
from common.models import load_classifier
from common.plotting import map_grid, save_figure
from common.tracking import Job
from papers.course.limits import LIMIT_METHODS, SaturatedDetector, example_image, region_table
from papers.course.scoring import (
    class_masks,
    explained_class,
    localisation,
    scenes_images,
)

FIGURE_IMAGES = 3


def detector_outputs(smk, job) -> None:
    model, x = SaturatedDetector(), example_image()
    job.save_table("limits", pd.DataFrame(region_table(model, x)), smk.output.limits)
    target = torch.ones(1, dtype=torch.long)
    maps = {name: explain(model, x, target, name, **params).abs()[:, 0]
            for name, params in LIMIT_METHODS.items()}
    save_figure(map_grid(x, ["object + spurious pixel"], maps, signed=False),
                smk.output.limits_pdf, smk.output.limits_png)
    job.log_figure("limits", smk.output.limits_png)


def sanity_rows(model, x, target, masks, methods, method_params, tolerance: int) -> list[dict]:
    """One row per method and cascading depth: similarity to the trained map, localisation."""
    rows = []
    for method in methods:
        params = method_params.get(method, {})
        trained = explain(model, x, target, method, **params)
        rows.append({"method": method, "randomised_down_to": "(trained)", "stages": 0,
                     **localisation(trained.abs().sum(1), masks, tolerance)})
        records = parameter_randomisation(model, x, target, method, keep_maps=True,
                                          reference=trained, **params)
        for depth, record in enumerate(records, 1):
            rows.append({"method": method, "randomised_down_to": record["stage"],
                         "stages": depth,
                         **{name: record[name].nanmean().item() for name in SIMILARITIES},
                         **localisation(record["attribution"].abs().sum(1), masks, tolerance)})
    return rows


def main(smk) -> None:
    settings, sanity = smk.params.localisation, smk.params.sanity
    with Job(smk, seed=0) as job:
        detector_outputs(smk, job)
        model = load_classifier(smk.input.weights, job.device)
        scenes = scenes_images(smk.input.scenes, "test", sanity["images"])
        x = scenes.images.to(job.device)
        target = explained_class(model, x, scenes.labels)
        masks = class_masks(scenes.masks, target)
        rows = sanity_rows(model, x, target, masks, sanity["methods"], sanity["method_params"],
                           settings["tolerance"])
        job.save_table("sanity", pd.DataFrame(rows), smk.output.sanity)
        everything = reinitialise(model, randomisation_stages(model), seed=0)
        shown = x[:FIGURE_IMAGES]
        maps = {f"{method} ({state})": explain(network, shown, target[:FIGURE_IMAGES], method,
                                               **sanity["method_params"].get(method, {})
                                               ).abs().sum(1)
                for method in sanity["methods"]
                for state, network in (("trained", model), ("random", everything))}
        titles = [scenes.classes[int(label)] for label in target[:FIGURE_IMAGES]]
        save_figure(map_grid(shown, titles, maps, signed=False), smk.output.sanity_pdf,
                    smk.output.sanity_png)
        job.log_figure("sanity", smk.output.sanity_png)


if __name__ == "__main__":
    main(snakemake_object())
