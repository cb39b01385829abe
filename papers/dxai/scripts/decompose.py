"""Decompose one dataset's test images with DXAI and with every heatmap method (Table 1's
rows), and follow each along x - beta * x_distinct (Eq. 9).

Every image is explained for its true class, as the authors' evaluation does
(DXAI's style and the heatmaps' target), and accuracy is against the true
labels; a heatmap's distinct part is attr / max|attr| * (x - grey), the authors'
formula on their [-1, 1] images. The decompositions (and the heatmaps, which
Table 2 ranks pixels by) are saved for the tables and figures downstream; the
curves (accuracy and mean class probabilities per true class, for each beta)
are a CSV.
"""

from pathlib import Path

import pandas as pd
import torch

from common.data import load_split
from common.explain import distinct_part, explain
from common.io import atomic_path
from common.models import load_classifier
from common.tracking import Job
from papers.dxai.decompose import Decomposer, load_decomposer
from papers.dxai.evaluation import REFERENCE, accuracy_curve, beta_probabilities, betas

CAM_METHODS = ("gradcam", "guided_gradcam")


def heatmap(classifier, x, target, method: str, gradcam_layer: str) -> torch.Tensor:
    """One registry method's attribution; the CAM methods at the authors' layer."""
    params = {"layer": classifier.get_submodule(gradcam_layer)} if method in CAM_METHODS else {}
    return explain(classifier, x, target, method, **params)


def curve_rows(method: str, probabilities, labels, grid, classes) -> list[dict]:
    """Accuracy and, for each true class, the mean probability of every class at each beta."""
    accuracy = accuracy_curve(probabilities, labels)
    rows = []
    for index, beta in enumerate(grid.tolist()):
        row = {"method": method, "beta": round(beta, 6), "accuracy": float(accuracy[index])}
        for true_index, true_name in enumerate(classes):
            chosen = probabilities[labels == true_index, index]
            for class_index, name in enumerate(classes):
                row[f"p({name} | {true_name})"] = float(chosen[:, class_index].mean())
        rows.append(row)
    return rows


def main(smk) -> None:
    settings = smk.params.evaluation
    with Job(smk, seed=0) as job:
        classifier = load_classifier(smk.input.classifier, job.device)
        test = load_split(Path(smk.input.manifest).parent, "test")
        x = test.images[:settings["images"]].to(job.device)
        labels = test.labels[:settings["images"]].to(job.device)
        with torch.no_grad():
            predicted = classifier(x).argmax(1)
        decomposer: Decomposer = load_decomposer(smk.input.model).to(job.device)
        parts = decomposer(x, labels)
        distinct = {"DXAI": parts.distinct}
        heatmaps = {}
        for method in settings["heatmap_methods"]:
            heatmaps[method] = heatmap(classifier, x, labels, method, settings["gradcam_layer"])
            distinct[method] = distinct_part(heatmaps[method], x, reference=REFERENCE)
        grid = betas(settings["betas"]).to(job.device)
        rows = []
        for method, part in distinct.items():
            probabilities = beta_probabilities(classifier, x, part, grid)
            rows += curve_rows(method, probabilities, labels, grid, test.classes)
        job.save_table("beta_curves", pd.DataFrame(rows), smk.output.curves)
        with atomic_path(smk.output.decompositions) as temporary:
            torch.save({"images": x.cpu(), "labels": labels.cpu(), "predicted": predicted.cpu(),
                        "classes": list(test.classes),
                        "masks": None if test.masks is None else
                        test.masks[:settings["images"]].cpu(),
                        "agnostic": parts.agnostic.cpu(),
                        "distinct": {name: part.cpu() for name, part in distinct.items()},
                        "heatmaps": {name: value.cpu() for name, value in heatmaps.items()}},
                       temporary)


main(snakemake)  # noqa: F821 (injected by Snakemake)
