"""The PV claims table (papers/pv/claims.py) from the workflow's own tables, in the common
schema (common/claims.py)."""

import pandas as pd

from common.claims import claims_table, input_files
from common.entry import snakemake_object
from common.tracking import Job
from papers.pv.claims import all_claims


def main(smk) -> None:
    with Job(smk, seed=0) as job:
        rows = all_claims(pd.read_csv(smk.input.table1), pd.read_csv(smk.input.tests),
                          pd.read_csv(smk.input.invariance), smk.params.alpha,
                          smk.params.decoder_datasets)
        job.save_table("claims", claims_table(rows, "pv", smk.config, input_files(smk.input),
                                              [smk.params.classifier_dataset]),
                       smk.output.table)


if __name__ == "__main__":
    main(snakemake_object())
