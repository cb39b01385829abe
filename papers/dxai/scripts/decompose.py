"""Decompose one dataset's test images with DXAI and with every heatmap method (Table 1's
rows), and follow each along x - beta * x_distinct (Eq. 9), for each classifier of
``dxai.evaluation.classifiers``.

Every image is explained for its true class, as the authors' evaluation does
(DXAI's style and the heatmaps' target), and accuracy is against the true
labels; a heatmap's distinct part is attr / max|attr| * (x - 0.5), the authors'
attr / max|attr| * x on their [-1, 1] images, whose zero is grey. The
heatmap methods run with ``dxai.method_params`` (grey baselines) at the authors'
layers (papers/dxai/heatmaps.py). Two readings of Table 1's classifier: the
explained zoo classifier, and the DXAI model's own discriminator, which then is
both explained by the heatmap methods (those that apply to it) and measures the
accuracy. DXAI's decomposition is the same in both. The explained classifier's
decompositions and heatmaps are saved for Table 2, the grids, the naive
baseline and the ground truth; the curves of both readings (accuracy and mean
class probabilities per true class, for each beta) are a CSV.
"""

import logging
from pathlib import Path

import pandas as pd
import torch

from common import budget
from common.data import load_split
from common.entry import snakemake_object
from common.io import save_torch
from common.metrics.faithfulness import distinct_part
from common.models import load_classifier
from common.tracking import Job
from papers.dxai.decompose import load_decomposer, load_discriminator
from papers.dxai.evaluation import (
    DISCRIMINATOR,
    REFERENCE,
    accuracy_curve,
    beta_probabilities,
    betas,
    evaluation_sample,
    probability_column,
)
from papers.dxai.heatmaps import (
    classifier_layers,
    discriminator_layers,
    discriminator_refusal,
    heatmap,
)
from papers.dxai.plan import evaluation_images

LOGGER = logging.getLogger("xai")


def curve_rows(classifier: str, method: str, probabilities, labels, grid, classes) -> list[dict]:
    """Accuracy and, for each true class, the mean probability of every class at each beta."""
    accuracy = accuracy_curve(probabilities, labels)
    rows = []
    for index, beta in enumerate(grid.tolist()):
        row = {"classifier": classifier, "method": method, "beta": round(beta, 6),
               "accuracy": float(accuracy[index])}
        for true_index, true_name in enumerate(classes):
            chosen = probabilities[labels == true_index, index]
            for class_index, name in enumerate(classes):
                row[probability_column(name, true_name)] = float(chosen[:, class_index].mean())
        rows.append(row)
    return rows


def readings(smk, classifier, decomposer, device: str) -> dict:
    """{reading: (name in the tables, model, layers, methods)}: the explained classifier
    (always: the schema requires it) and, if configured, the discriminator."""
    settings = smk.params.evaluation
    methods = settings["heatmap_methods"]
    chosen = {"explained": (smk.params.classifier, classifier,
                            classifier_layers(settings["gradcam_layer"]), methods)}
    if DISCRIMINATOR in settings["classifiers"]:
        refused = {method: discriminator_refusal(method) for method in methods}
        for method, reason in refused.items():
            if reason is not None:
                LOGGER.info("%s is not run on the discriminator: %s", method, reason)
        chosen[DISCRIMINATOR] = (DISCRIMINATOR, load_discriminator(smk.input.model).to(device),
                                 discriminator_layers(decomposer.arch),
                                 [method for method in methods if refused[method] is None])
    return chosen


def save_decompositions(path: str, test, index, x, labels, predicted, agnostic,
                        saved: dict) -> None:
    """The explained classifier's decompositions and heatmaps, with the images they explain."""
    cpu = {part: {name: value.cpu() for name, value in saved[part].items()}
           for part in ("distinct", "heatmaps")}
    save_torch({"images": x.cpu(), "labels": labels.cpu(), "predicted": predicted.cpu(),
                "classes": list(test.classes),
                "masks": None if test.masks is None else test.masks[index].cpu(),
                "agnostic": agnostic.cpu(), **cpu}, path)


def main(smk) -> None:
    settings = smk.params.evaluation
    with Job(smk, seed=0) as job:
        classifier = load_classifier(smk.input.classifier, job.device)
        test = load_split(Path(smk.input.manifest).parent, "test")
        index = evaluation_sample(test, *evaluation_images(settings, smk.wildcards.dataset))
        x, labels = test.images[index].to(job.device), test.labels[index].to(job.device)
        with torch.no_grad():
            predicted = budget.batched(lambda images: classifier(images).argmax(1), x)
        decomposer = load_decomposer(smk.input.model).to(job.device)
        parts = decomposer(x, labels)
        grid = betas(settings["betas"]).to(job.device)
        rows = []
        for reading, (name, model, layers, methods) in readings(
                smk, classifier, decomposer, job.device).items():
            heatmaps = {method: heatmap(model, x, labels, method, layers, smk.params.method_params)
                        for method in methods}
            distinct = {"DXAI": parts.distinct}
            distinct |= {method: distinct_part(value, x, reference=REFERENCE)
                         for method, value in heatmaps.items()}
            for method, part in distinct.items():
                probabilities = beta_probabilities(model, x, part, grid)
                rows += curve_rows(name, method, probabilities, labels, grid, test.classes)
            if reading == "explained":
                save_decompositions(smk.output.decompositions, test, index, x,
                                    labels, predicted, parts.agnostic,
                                    {"distinct": distinct, "heatmaps": heatmaps})
        job.save_table("beta_curves", pd.DataFrame(rows), smk.output.curves)


if __name__ == "__main__":
    main(snakemake_object())
