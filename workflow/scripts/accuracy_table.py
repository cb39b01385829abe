"""Collect the test accuracy of every trained classifier into one table (CSV)."""

import pandas as pd

from common.entry import snakemake_object
from common.io import read_json
from common.tracking import Job


def main(smk) -> None:
    with Job(smk) as job:
        rows = []
        for run, path in zip(smk.params.runs, smk.input.metrics, strict=True):
            metrics = read_json(path)
            rows.append({**run, "task": metrics["task"],
                         "test_accuracy": round(metrics["test_accuracy"], 4),
                         "test_map": round(metrics.get("test_map", float("nan")), 4),
                         "n_test": metrics["n_test"], "epochs": len(metrics["history"]),
                         "final_train_loss": round(metrics["history"][-1]["train_loss"], 4),
                         "train_seconds": round(metrics["train_seconds"], 1)})
        table = pd.DataFrame(rows).sort_values(["dataset", "arch", "seed"])
        job.save_table("accuracy", table, smk.output.table)


if __name__ == "__main__":
    main(snakemake_object())
