"""The survey's white-box maps on real photos, compared with each other (no gaze recorded).

Each method explains the ImageNet classifier's top-1 class of each photo; its map
is the channel sum of |attribution|, as in Table 1. The PCC of every pair of maps
is averaged over the photos: a method-by-method agreement matrix. Writes the
per-photo scores, the matrix (long form) and its figure.
"""

import numpy as np

from common.entry import snakemake_object
from common.explain import explain
from common.metrics.sanity import absolute_map
from common.plotting import plt, save_figure
from common.tracking import Job
from papers.survey.photos import agreement_matrix, pairwise_pcc, photos_and_model


def draw(matrix):
    """The mean PCC matrix as a heatmap, each cell labelled."""
    methods = list(matrix["method_a"].cat.categories)
    values = matrix.pivot(index="method_a", columns="method_b", values="pcc_mean")
    values = values.loc[methods, methods].to_numpy(dtype=float)
    figure, axis = plt.subplots(figsize=(0.6 * len(methods) + 2, 0.6 * len(methods) + 1))
    image = axis.imshow(values, cmap="RdBu_r", vmin=-1, vmax=1)
    for (row, column), value in np.ndenumerate(values):
        axis.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=6)
    axis.set_xticks(range(len(methods)), methods, rotation=60, ha="right", fontsize=7)
    axis.set_yticks(range(len(methods)), methods, fontsize=7)
    axis.set_title(f"PCC between methods' maps, mean over {int(matrix['photos'].max())} photos",
                   fontsize=8)
    figure.colorbar(image, ax=axis, shrink=0.8)
    return figure


def main(smk) -> None:
    settings = smk.params.settings
    with Job(smk, seed=0) as job:
        x, names, model, predicted = photos_and_model(
            smk.input.manifest, settings, job.device, key="survey.photo_agreement.images")
        maps = {method: absolute_map(explain(model, x, predicted, method,
                                             **settings["method_params"].get(method, {})))
                for method in settings["methods"]}
        scores = pairwise_pcc(maps, names)
        matrix = agreement_matrix(scores)
        job.save_table("photo_agreement_scores", scores.round(6), smk.output.scores)
        job.save_table("photo_agreement", matrix.round(4), smk.output.table)
        save_figure(draw(matrix), smk.output.pdf, smk.output.png)
        job.log_figure("photo_agreement", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
