"""The survey's claims table (papers/survey/claims.py) from the workflow's own tables, in the
common schema (common/claims.py)."""

import pandas as pd

from common.claims import claims_table, input_files
from common.entry import snakemake_object
from common.tracking import Job
from papers.survey.claims import all_claims


def main(smk) -> None:
    with Job(smk, seed=0) as job:
        tables = {name: pd.read_csv(smk.input[name])
                  for name in ("table1", "perturbation", "sanity", "timing")}
        rows = all_claims(**tables, sanity_pass_below=smk.params.sanity_pass_below,
                          table1_dataset=smk.params.table1_dataset)
        job.save_table("claims", claims_table(rows, "survey", smk.config, input_files(smk.input),
                                              [smk.params.classifier_dataset]),
                       smk.output.table)


if __name__ == "__main__":
    main(snakemake_object())
