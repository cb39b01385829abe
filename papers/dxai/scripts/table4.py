"""Table 4 (App. 0.F): how much DXAI's distinct part varies across training seeds at each
evaluation point of training, against how much Grad-CAM and Internal Influence vary across
three consecutive layers of the same classifier. Each spread is the per-pixel std across
the solutions divided by their dynamic range, averaged over pixels and images."""

from pathlib import Path

import pandas as pd
import torch

from common.data import load_split
from common.explain import explain
from common.models import load_classifier
from common.tracking import Job
from papers.dxai.decompose import load_decomposer
from papers.dxai.evaluation import normalised_spread


def dxai_rows(model_files, x, predicted, device) -> list[dict]:
    saved = [torch.load(path, map_location="cpu", weights_only=True) for path in model_files]
    iterations = [snapshot["iteration"] for snapshot in saved[0]["snapshots"]]
    rows = []
    for index, iteration in enumerate(iterations):
        distinct = torch.stack([load_decomposer(path, snapshot=index).to(device)(x, predicted)
                                .distinct for path in model_files])
        rows.append({"method": "DXAI", "varies_over": f"{len(model_files)} training seeds",
                     "iteration": iteration,
                     "normalised_std": float(normalised_spread(distinct).mean())})
    return rows


def layer_rows(classifier, x, predicted, layers: list[str]) -> list[dict]:
    maps = {"Grad-CAM": [explain(classifier, x, predicted, "gradcam",
                                 layer=classifier.get_submodule(layer)) for layer in layers],
            "Internal Influence": [explain(classifier, x, predicted, "internal_influence",
                                           layer=layer) for layer in layers]}
    return [{"method": method, "varies_over": f"layers {', '.join(layers)}", "iteration": None,
             "normalised_std": float(normalised_spread(torch.stack(solutions)).mean())}
            for method, solutions in maps.items()]


def main(smk) -> None:
    settings = smk.params.stability
    with Job(smk, seed=0) as job:
        classifier = load_classifier(smk.input.classifier, job.device)
        test = load_split(Path(smk.input[f"{settings['dataset']}_manifest"]).parent, "test")
        x = test.images[:settings["images"]].to(job.device)
        with torch.no_grad():
            predicted = classifier(x).argmax(1)
        rows = dxai_rows(smk.input.models, x, predicted, job.device)
        rows += layer_rows(classifier, x, predicted, settings["layers"])
        job.save_table("table4", pd.DataFrame(rows), smk.output.table)


main(snakemake)  # noqa: F821 (injected by Snakemake)
