"""Beyond the paper: on data with evidence masks, the share of |x_distinct| inside the mask
(images of the object's class with a non-empty mask), for DXAI and each heatmap method,
next to the mask's share of the image (what a uniform part would score)."""

import pandas as pd

from common.entry import snakemake_object
from common.io import load_torch
from common.tracking import Job
from papers.dxai.evaluation import UNIFORM_PART, mask_share


def dataset_rows(dataset: str, saved: dict) -> list[dict]:
    if saved["masks"] is None:
        raise ValueError(f"config key 'dxai.groundtruth.datasets': {dataset!r} has no masks")
    masks = saved["masks"].float()
    area = masks.flatten(1).mean(1)
    chosen = area > 0
    rows = [{"dataset": dataset, "method": UNIFORM_PART,
             "share_in_mask": float(area[chosen].mean()), "images": int(chosen.sum())}]
    for method, part in saved["distinct"].items():
        share = mask_share(part[chosen], masks[chosen])
        rows.append({"dataset": dataset, "method": method,
                     "share_in_mask": float(share.nanmean()),
                     "images": int((~share.isnan()).sum())})
    return rows


def main(smk) -> None:
    with Job(smk) as job:
        files = zip(smk.params.datasets, smk.input.decompositions, strict=True)
        rows = [row for dataset, path in files
                for row in dataset_rows(dataset, load_torch(path))]
        job.save_table("groundtruth", pd.DataFrame(rows), smk.output.table)


if __name__ == "__main__":
    main(snakemake_object())
