"""Table 4 (App. 0.F): how much DXAI's distinct part varies across training seeds at each
evaluation point of training, against how much Grad-CAM and Internal Influence vary across
three consecutive layers of the same classifier (each map scaled to a peak of 1 per image,
"between 0 and 1" as the paper treats them). Each spread is the per-pixel std across the
solutions divided by their dynamic range, averaged over pixels and images. Every image is
explained for its true class."""


import pandas as pd
import torch

from common.data import load_split
from common.entry import snakemake_object
from common.io import load_torch
from common.models import load_classifier
from common.tracking import Job
from papers.dxai.decompose import Decomposer
from papers.dxai.evaluation import evaluation_sample, normalised_spread, unit_peak
from papers.dxai.heatmaps import Layers, heatmap
from papers.dxai.model import Architecture


def dxai_rows(model_files, x, labels, device) -> list[dict]:
    saved = [load_torch(path, "cpu") for path in model_files]
    rows = []
    for index, snapshot in enumerate(saved[0]["snapshots"]):
        distinct = torch.stack([
            Decomposer.from_state(Architecture(**run["arch"]), run["snapshots"][index])
            .to(device)(x, labels).distinct for run in saved])
        rows.append({"method": "DXAI", "varies_over": f"{len(model_files)} training seeds",
                     "iteration": snapshot["iteration"],
                     "normalised_std": float(normalised_spread(distinct).mean())})
    return rows


def layer_rows(classifier, x, labels, layers: list[str], method_params: dict) -> list[dict]:
    """Grad-CAM and Internal Influence (with ``dxai.method_params``: its grey baseline) at
    each of ``layers``, and their spread over the layers."""
    maps = {name: [heatmap(classifier, x, labels, method, Layers(gradcam=layer, influence=layer),
                           method_params) for layer in layers]
            for name, method in (("Grad-CAM", "gradcam"),
                                 ("Internal Influence", "internal_influence"))}
    return [{"method": method, "varies_over": f"layers {', '.join(layers)}", "iteration": None,
             "normalised_std": float(normalised_spread(
                 torch.stack([unit_peak(solution) for solution in solutions])).mean())}
            for method, solutions in maps.items()]


def main(smk) -> None:
    settings = smk.params.stability
    with Job(smk, seed=0) as job:
        classifier = load_classifier(smk.input.classifier, job.device)
        test = load_split(smk.input[settings["dataset"]], "test")
        index = evaluation_sample(test, settings["images"], "dxai.stability.images")
        x, labels = test.images[index].to(job.device), test.labels[index].to(job.device)
        rows = dxai_rows(smk.input.models, x, labels, job.device)
        rows += layer_rows(classifier, x, labels, settings["layers"], smk.params.method_params)
        job.save_table("table4", pd.DataFrame(rows), smk.output.table)


if __name__ == "__main__":
    main(snakemake_object())
