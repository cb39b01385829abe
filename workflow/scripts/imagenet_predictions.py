"""Top-5 ImageNet classes of a pretrained classifier on the shipped photographs (CSV)."""


import pandas as pd
import torch

from common.data import load_split
from common.entry import snakemake_object
from common.models.pretrained import load_imagenet_classifier
from common.tracking import Job

TOP = 5


def main(smk) -> None:
    with Job(smk) as job:
        photos = load_split(smk.input.manifest, "test")
        model = load_imagenet_classifier(smk.wildcards.model, smk.params.weights).to(job.device)
        with torch.no_grad():
            probabilities = model(photos.images.to(job.device)).softmax(1).cpu()
        best = probabilities.topk(TOP, dim=1)
        rows = [{"photo": name, "rank": rank + 1, "class_index": int(index),
                 "class_name": model.categories[int(index)], "probability": round(float(p), 4)}
                for name, indices, values in zip(photos.names, best.indices, best.values,
                                                 strict=True)
                for rank, (index, p) in enumerate(zip(indices, values, strict=True))]
        table = pd.DataFrame(rows)
        job.save_table("top5", table, smk.output.table)


if __name__ == "__main__":
    main(snakemake_object())
