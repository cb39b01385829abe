"""Table 1 of the survey (human-likeness) and its Fig. 11: white-box maps against gaze maps.

Each method explains the classifier's score for the image's class; its map (the
channel sum of the absolute attribution, which leaves the non-negative CAM-family
maps as they are) is compared with the image's fixation density map by SIM and
PCC (common.metrics.comparison, the MIT saliency benchmark's definitions that
NOTES.md gives for the survey). The density maps are recorded gaze where the
dataset has them (MexCulture at paper scale, ``survey.human_likeness.gaze``: its
images explained by a pretrained ImageNet model) and simulated observers otherwise
(papers/survey/observers.py); the table says which. Writes the per-image scores,
Table 1 (papers/survey/table1.py: mean, sample std and image count of each metric per
method, beside the paper's printed values) and Fig. 11 (images, density maps and every
method's map).
"""


import pandas as pd
import torch

from common.data import load_split
from common.entry import snakemake_object
from common.explain import explain
from common.metrics.comparison import pcc, sim
from common.metrics.sanity import absolute_map
from common.models import classifier_and_test_split
from common.models.pretrained import load_imagenet_classifier
from common.plotting import plt, save_figure, show_image
from common.tracking import Job
from papers.survey.gaze import reference_maps
from papers.survey.table1 import summary_table

FIGURE_IMAGES = 3


def classifier_and_split(smk, gaze: dict | None, device: str):
    """The explained model and the split with the images: a pretrained ImageNet model on the
    gaze dataset where ``gaze`` is set, else the survey's trained classifier and test split."""
    if gaze is None:
        return classifier_and_test_split(smk.input.weights, smk.input.manifest, device)
    model = load_imagenet_classifier(gaze["model"], smk.input.get("weights"))
    return model.to(device).eval(), load_split(smk.input.manifest, "test")


def score(model, x, target, density, methods: list[str], method_params: dict):
    """Per-image SIM and PCC rows for every method, and each method's maps (B, 1, H, W)."""
    rows, maps = [], {}
    for method in methods:
        maps[method] = absolute_map(explain(model, x, target, method,
                                            **method_params.get(method, {})))
        for metric, function in (("sim", sim), ("pcc", pcc)):
            values = function(maps[method], density.to(x.device)).tolist()
            rows += [{"method": method, "metric": metric, "image": image, "score": value}
                     for image, value in enumerate(values)]
    return pd.DataFrame(rows), maps


def draw(x, density, maps: dict, reference: str):
    """Fig. 11: per image, the image, its density map and every method's map."""
    columns = len(maps) + 2
    rows = min(FIGURE_IMAGES, len(x))
    figure, axes = plt.subplots(rows, columns, squeeze=False,
                                figsize=(1.15 * columns, 1.25 * rows))
    for row in range(rows):
        show_image(axes[row, 0], x[row].permute(1, 2, 0).cpu().numpy())
        axes[row, 1].imshow(density[row].cpu(), cmap="inferno")
        for column, saliency in enumerate(maps.values(), start=2):
            axes[row, column].imshow(saliency[row, 0].cpu(), cmap="inferno")
    titles = ["image", f"density ({reference})", *maps]
    for column, title in enumerate(titles):
        axes[0, column].set_title(title, fontsize=5, rotation=20)
    for axis in axes.flat:
        axis.axis("off")
    return figure


def main(smk) -> None:
    settings = smk.params.settings
    with Job(smk, seed=settings["seed"]) as job:
        model, split = classifier_and_split(smk, settings["gaze"], job.device)
        x, target, density, reference = reference_maps(model, split, settings, settings["seed"],
                                                       job.device)
        x, target = x.to(job.device), target.to(job.device)
        scores, maps = score(model, x, target, density, settings["methods"],
                             settings["method_params"])
        summary = summary_table(scores, reference)
        job.save_table("scores", scores.round(6), smk.output.scores)
        job.save_table("table1", summary, smk.output.table)
        with torch.no_grad():
            save_figure(draw(x, density, maps, reference), smk.output.pdf, smk.output.png)
        job.log_figure("figure11", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
