"""The DXAI claims table (papers/dxai/claims.py) from the workflow's own tables."""

import pandas as pd

from common.tracking import Job
from papers.dxai.claims import all_claims

TABLES = ("table1", "table2", "table3", "table4", "ablation", "naive", "groundtruth")


def main(smk) -> None:
    with Job(smk) as job:
        tables = {key: pd.read_csv(smk.input[key]) for key in TABLES}
        curves = {dataset: pd.read_csv(path)
                  for dataset, path in zip(smk.params.datasets, smk.input.curves, strict=True)}
        job.save_table("claims", all_claims(**tables, curves=curves), smk.output.table)


main(snakemake)  # noqa: F821 (injected by Snakemake)
