"""The DXAI claims table (papers/dxai/claims.py) from the workflow's own tables, in the common
schema (common/claims.py)."""

import pandas as pd

from common.claims import claims_table, input_files
from common.entry import snakemake_object
from common.tracking import Job
from papers.dxai.claims import all_claims

TABLES = ("table1", "table2", "table3", "table4", "ablation", "naive", "groundtruth")


def main(smk) -> None:
    with Job(smk) as job:
        tables = {key: pd.read_csv(smk.input[key]) for key in TABLES}
        curves = {dataset: pd.read_csv(path)
                  for dataset, path in zip(smk.params.datasets, smk.input.curves, strict=True)}
        rows = all_claims(**tables, curves=curves, datasets=smk.params.measured_on)
        files = input_files(smk.input, curves=smk.params.datasets,
                            grids=smk.params.grid_datasets)
        job.save_table("claims", claims_table(rows, "dxai", smk.config, files,
                                              smk.params.datasets), smk.output.table)


if __name__ == "__main__":
    main(snakemake_object())
