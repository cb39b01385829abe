"""Fig. 9: the classifier's mean probability of each class along x - beta * x_distinct
(DXAI), one panel per dataset and one line per (true class, class) pair."""

import matplotlib.pyplot as plt
import pandas as pd

from common.plotting import save_figure
from common.tracking import Job


def main(smk) -> None:
    with Job(smk) as job:
        datasets = smk.params.datasets
        figure, axes = plt.subplots(1, len(datasets), squeeze=False,
                                    figsize=(3.2 * len(datasets), 3.0))
        for axis, dataset, path in zip(axes[0], datasets, smk.input.curves, strict=True):
            curves = pd.read_csv(path)
            dxai = curves[curves["method"] == "DXAI"]
            for column in [c for c in curves.columns if c.startswith("p(")]:
                predicted, true = column[2:-1].split(" | ")
                axis.plot(dxai["beta"], dxai[column], marker=".",
                          linestyle="-" if predicted == true else ":", label=column)
            axis.set_title(dataset)
            axis.set_xlabel("beta")
            axis.set_ylim(0, 1)
            axis.legend(fontsize=5)
        axes[0, 0].set_ylabel("mean class probability")
        save_figure(figure, smk.output.pdf, smk.output.png)
        job.log_figure("figure9", smk.output.png)


main(snakemake)  # noqa: F821 (injected by Snakemake)
