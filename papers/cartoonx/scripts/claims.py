"""CartoonX's claims table (papers/cartoonx/claims.py) from the workflow's own tables, in the
common schema (common/claims.py)."""

import pandas as pd

from common.claims import claims_table, input_files
from common.entry import snakemake_object
from common.tracking import Job
from papers.cartoonx.claims import all_claims


def main(smk) -> None:
    with Job(smk) as job:
        evaluations = smk.params.curve_evaluations
        curves = {evaluation: pd.read_csv(path)
                  for evaluation, path in zip(evaluations, smk.input.curves, strict=True)}
        tables = {name: pd.read_csv(smk.input[name])
                  for name in ("sweep", "stability", "agreement", "perturbation_curves",
                               "runtime")}
        rows = all_claims(curves, smk.params.sweep_evaluation, **tables,
                          low_rate=smk.params.low_rate, datasets=smk.params.datasets)
        files = input_files(smk.input, curves=evaluations, figure7ab=evaluations)
        job.save_table("claims", claims_table(rows, "cartoonx", smk.config, files,
                                              sorted(set(smk.params.datasets.values()))),
                       smk.output.table)


if __name__ == "__main__":
    main(snakemake_object())
