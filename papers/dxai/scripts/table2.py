"""Table 2: accuracy as the top fraction of pixels is set to grey, ranked by the channel mean
of |x_distinct| for DXAI and of |attribution| for each heatmap method (the authors' ranking);
area over the fractions divided by the accuracy at 0."""

import pandas as pd
import torch

from common.entry import snakemake_object
from common.io import load_torch
from common.models import load_classifier
from common.tracking import Job
from papers.dxai.evaluation import normalised_auc, pixel_magnitude, removal_accuracy


def main(smk) -> None:
    fractions = torch.tensor(smk.params.pixel_removal["fractions"], dtype=torch.float32)
    with Job(smk) as job:
        classifier = load_classifier(smk.input.classifier, job.device)
        saved = load_torch(smk.input.decompositions)
        x, labels = saved["images"].to(job.device), saved["labels"].to(job.device)
        importance = {"DXAI": pixel_magnitude(saved["distinct"]["DXAI"])}
        importance |= {name: pixel_magnitude(value) for name, value in saved["heatmaps"].items()}
        rows = []
        for method, values in importance.items():
            accuracy = removal_accuracy(classifier, x, values.to(job.device), labels,
                                        fractions.to(job.device)).cpu()
            rows.append({"method": method,
                         "auc": normalised_auc(accuracy, fractions, per_unit_range=False),
                         **{f"accuracy@{f:g}": float(a) for f, a in zip(fractions.tolist(),
                                                                         accuracy, strict=True)}})
        job.save_table("table2", pd.DataFrame(rows), smk.output.table)


if __name__ == "__main__":
    main(snakemake_object())
