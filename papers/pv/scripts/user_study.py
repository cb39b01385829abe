"""Table 1 and Fig. 6 of the PV paper from per-participant scores, with the Mann-Whitney tests.

Reads a scores file (the vendored real data, or the kit's simulated answers:
``params.source`` names which, and every title and file carries it), writes the
accuracy table with standard errors beside the paper's values, the two
one-tailed tests beside the paper's, and the histograms of Fig. 6.
"""

import numpy as np
from matplotlib.ticker import MaxNLocator

from common.entry import snakemake_object
from common.plotting import plt, save_figure
from common.tracking import Job
from papers.pv.study import ARMS, CASES, accuracy_table, read_scores, test_table

ARM_NAMES = {"gradcam": "Grad-CAM", "pv": "PV"}
CASE_NAMES = {"model_wrong": "model incorrect", "model_right": "model correct"}


def histograms(scores, source: str):
    """Fig. 6: per case, how many participants of each arm named the prediction k times."""
    figure, axes = plt.subplots(1, len(CASES), figsize=(9, 3.2))
    for axis, case in zip(axes, CASES, strict=True):
        questions = int(scores[f"n_questions_{case}"].max())
        bins = np.arange(questions + 2) - 0.5
        for offset, arm in zip((-0.2, 0.2), ARMS, strict=True):
            counts, _ = np.histogram(scores.loc[scores["arm"] == arm, f"correct_when_{case}"],
                                     bins=bins)
            axis.bar(np.arange(questions + 1) + offset, counts, width=0.4, label=ARM_NAMES[arm])
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_xlabel(f"questions answered with the model's prediction (of {questions})")
        axis.set_ylabel("participants")
        axis.set_title(f"{CASE_NAMES[case]} ({source})", fontsize=9)
        axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def main(smk) -> None:
    source = smk.params.source
    with Job(smk, seed=0) as job:
        scores = read_scores(smk.input.scores)
        tables = {"table": accuracy_table(scores), "tests": test_table(scores)}
        for name, table in tables.items():
            table.insert(0, "data", source)
            job.save_table(name, table, smk.output[name])
        save_figure(histograms(scores, source), smk.output.pdf, smk.output.png)
        job.log_figure("figure6", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
