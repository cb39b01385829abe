"""Fig. 9: the classifier's mean probability of each class along x - beta * x_distinct
(DXAI), one panel per (classifier, dataset): a row for the explained classifier and one
for the DXAI discriminator where it is configured; one line per (true class, class) pair."""

import matplotlib.pyplot as plt
import pandas as pd

from common.entry import snakemake_object
from common.plotting import save_figure
from common.tracking import Job


def main(smk) -> None:
    with Job(smk) as job:
        datasets = smk.params.datasets
        curves = {dataset: pd.read_csv(path)
                  for dataset, path in zip(datasets, smk.input.curves, strict=True)}
        classifiers = list(curves[datasets[0]]["classifier"].unique())
        figure, axes = plt.subplots(len(classifiers), len(datasets), squeeze=False,
                                    figsize=(3.2 * len(datasets), 3.2 * len(classifiers)),
                                    layout="constrained")
        for row, classifier in enumerate(classifiers):
            for axis, dataset in zip(axes[row], datasets, strict=True):
                table = curves[dataset]
                dxai = table[(table["method"] == "DXAI") & (table["classifier"] == classifier)]
                for column in [c for c in table.columns if c.startswith("p(")]:
                    predicted, true = column[2:-1].split(" | ")
                    axis.plot(dxai["beta"], dxai[column], marker=".",
                              linestyle="-" if predicted == true else ":", label=column)
                axis.set_title(f"{dataset} ({classifier})")
                axis.set_xlabel("beta")
                axis.set_ylim(0, 1)
                axis.legend(fontsize=5)
            axes[row, 0].set_ylabel("mean class probability")
        save_figure(figure, smk.output.pdf, smk.output.png)
        job.log_figure("figure9", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
