"""The scorecard table and page (common/scorecard.py) from every work's claims table; its
provenance record names each claims table as an input, so that ``python -m common.lineage
show results/scorecard.csv`` reaches them and, from there, the data."""

from common.entry import snakemake_object
from common.scorecard import build, summary
from common.tracking import Job


def main(smk) -> None:
    with Job(smk) as job:
        scorecard = build(list(smk.input.claims), smk.output.table, smk.output.page)
        counts = summary(scorecard)
        job.log({f"{row.work}_held": row.held for row in counts.itertuples()}
                | {f"{row.work}_checked": row.checked for row in counts.itertuples()})
        job.log_table("scorecard", scorecard)


if __name__ == "__main__":
    main(snakemake_object())
