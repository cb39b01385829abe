"""The PV claims table (papers/pv/claims.py) from the workflow's own tables."""

import pandas as pd

from common.tracking import Job
from papers.pv.claims import all_claims


def main(smk) -> None:
    with Job(smk, seed=0) as job:
        claims = all_claims(pd.read_csv(smk.input.table1), pd.read_csv(smk.input.tests),
                            pd.read_csv(smk.input.invariance), smk.params.alpha)
        job.save_table("claims", claims, smk.output.table)


main(snakemake)  # noqa: F821 (injected by Snakemake)
