"""Table 1: per dataset, the normalised AUC of accuracy vs beta of each decomposition, for
each classifier it was explained for and measured with (the ``classifier`` column: the
explained zoo classifier by its name, or the DXAI model's discriminator)."""

import pandas as pd

from common.entry import snakemake_object
from common.tracking import Job
from papers.dxai.evaluation import curve_auc


def main(smk) -> None:
    with Job(smk) as job:
        columns = {dataset: curve_auc(pd.read_csv(path), "beta")
                   for dataset, path in zip(smk.params.datasets, smk.input.curves, strict=True)}
        table = pd.DataFrame(columns).rename_axis(["classifier", "method"]).reset_index()
        job.save_table("table1", table, smk.output.table)


if __name__ == "__main__":
    main(snakemake_object())
