"""The survey's claims table (papers/survey/claims.py) from the workflow's own tables."""

import pandas as pd

from common.tracking import Job
from papers.survey.claims import all_claims


def main(smk) -> None:
    with Job(smk, seed=0) as job:
        tables = {name: pd.read_csv(smk.input[name])
                  for name in ("table1", "perturbation", "sanity", "timing")}
        claims = all_claims(**tables, sanity_pass_below=smk.params.sanity_pass_below)
        job.save_table("claims", claims, smk.output.table)


main(snakemake)  # noqa: F821 (injected by Snakemake)
