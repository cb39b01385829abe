"""CartoonX's claims table (papers/cartoonx/claims.py) from the workflow's own tables."""

import pandas as pd

from common.tracking import Job
from papers.cartoonx.claims import all_claims


def main(smk) -> None:
    with Job(smk) as job:
        curves = {evaluation: pd.read_csv(path) for evaluation, path
                  in zip(smk.params.curve_evaluations, smk.input.curves, strict=True)}
        tables = {name: pd.read_csv(smk.input[name])
                  for name in ("sweep", "stability", "agreement", "perturbation_curves",
                               "runtime")}
        claims = all_claims(curves, smk.params.sweep_evaluation, **tables,
                            low_rate=smk.params.low_rate)
        job.save_table("claims", claims, smk.output.table)


main(snakemake)  # noqa: F821 (injected by Snakemake)
