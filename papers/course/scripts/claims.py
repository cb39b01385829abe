"""The course's claims table (papers/course/claims.py) from the course's own tables, in the
common schema (common/claims.py)."""

import pandas as pd

from common.claims import claims_table, input_files
from common.entry import snakemake_object
from common.tracking import Job
from papers.course.claims import all_claims

#: The claims rule's inputs that are tables (the others are figures).
TABLES = ("linear", "conservation", "rules", "cam", "vit_decomposition", "vit_localisation",
          "limits", "sanity")


def main(smk) -> None:
    with Job(smk, seed=0) as job:
        rows = all_claims({name: pd.read_csv(smk.input[name]) for name in TABLES},
                          lrp_dataset=smk.params.lrp_dataset)
        job.save_table("claims", claims_table(rows, "course", smk.config,
                                              input_files(smk.input),
                                              [smk.params.localisation_dataset]),
                       smk.output.table)


if __name__ == "__main__":
    main(snakemake_object())
