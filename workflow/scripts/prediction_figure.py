"""Confusion matrix and example test predictions of one trained classifier."""

from pathlib import Path

import numpy as np

from common.data import load_split
from common.models import load_classifier
from common.models.train import predict
from common.plotting import plt, save_figure
from common.tracking import Job

EXAMPLES = 12


def draw(test, probabilities) -> plt.Figure:
    """Left: row-normalised confusion matrix. Right: examples with true/predicted class."""
    classes = test.classes
    labels, predicted = test.labels.numpy(), probabilities.argmax(1).numpy()
    confusion = np.zeros((len(classes), len(classes)))
    np.add.at(confusion, (labels, predicted), 1)
    confusion /= confusion.sum(1, keepdims=True).clip(min=1)

    figure = plt.figure(figsize=(12, 5.2))
    grid = figure.add_gridspec(3, 2 + EXAMPLES // 3, width_ratios=[3, 0.15] + [1] * (EXAMPLES // 3),
                               wspace=0.5, hspace=0.6)
    matrix = figure.add_subplot(grid[:, 0])
    image = matrix.imshow(confusion, vmin=0, vmax=1, cmap="Blues")
    matrix.set(xticks=range(len(classes)), yticks=range(len(classes)), xticklabels=classes,
               yticklabels=classes, xlabel="predicted", ylabel="true",
               title=f"test accuracy {np.mean(labels == predicted):.3f} (n={len(labels)})")
    for (row, column), value in np.ndenumerate(confusion):
        matrix.text(column, row, f"{value:.2f}", ha="center", va="center",
                    color="white" if value > 0.5 else "black")
    figure.colorbar(image, cax=figure.add_subplot(grid[:, 1]))
    for slot in range(EXAMPLES):
        axis = figure.add_subplot(grid[slot % 3, 2 + slot // 3])
        axis.imshow(test.images[slot].permute(1, 2, 0).numpy())
        ok = labels[slot] == predicted[slot]
        axis.set_title(f"{classes[labels[slot]]}→{classes[predicted[slot]]}\n"
                       f"p={probabilities[slot].max():.2f}", fontsize=7,
                       color="black" if ok else "red")
        axis.axis("off")
    return figure


def main(smk) -> None:
    with Job(smk) as job:
        test = load_split(Path(smk.input.manifest).parent, "test")
        model = load_classifier(smk.input.weights, job.device)
        probabilities = predict(model, test.images, job.device)
        save_figure(draw(test, probabilities), smk.output.pdf, smk.output.png)
        job.log_figure("predictions", smk.output.png)


main(snakemake)  # noqa: F821 (injected by Snakemake)
