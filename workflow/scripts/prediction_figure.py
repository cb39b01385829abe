"""Test-set performance and example predictions of one trained classifier.

Single-label data: row-normalised confusion matrix. Multi-label data: average
precision per class. Both beside the first test images with their true and
predicted classes (red where the prediction is wrong).
"""


import numpy as np

from common.entry import snakemake_object
from common.models import classifier_and_test_split
from common.models.evaluate import test_scores
from common.models.train import predict
from common.plotting import plt, save_figure, show_image
from common.tracking import Job

EXAMPLES = 12
ROWS = 3


def _confusion_panel(axis, colorbar_axis, figure, test, probabilities):
    classes, labels = test.classes, test.labels.numpy()
    predicted = probabilities.argmax(1).numpy()
    confusion = np.zeros((len(classes), len(classes)))
    np.add.at(confusion, (labels, predicted), 1)
    confusion /= confusion.sum(1, keepdims=True).clip(min=1)
    image = axis.imshow(confusion, vmin=0, vmax=1, cmap="Blues")
    axis.set(xticks=range(len(classes)), yticks=range(len(classes)), xticklabels=classes,
             yticklabels=classes, xlabel="predicted", ylabel="true",
             title=f"test accuracy {np.mean(labels == predicted):.3f} (n={len(labels)})")
    axis.tick_params(axis="x", labelrotation=45)
    if len(classes) <= 6:
        for (row, column), value in np.ndenumerate(confusion):
            axis.text(column, row, f"{value:.2f}", ha="center", va="center",
                      color="white" if value > 0.5 else "black")
    figure.colorbar(image, cax=colorbar_axis)


def _precision_panel(axis, colorbar_axis, figure, test, probabilities):
    scores = test_scores(probabilities, test)
    precision = [scores["per_class_average_precision"][name] for name in test.classes]
    axis.barh(range(len(test.classes)), precision, color="tab:blue")
    axis.set(yticks=range(len(test.classes)), yticklabels=test.classes, xlim=(0, 1),
             xlabel="average precision",
             title=f"test mAP {scores['test_map']:.3f} (n={len(test)})")
    axis.invert_yaxis()
    colorbar_axis.axis("off")


def _caption(test, probabilities, index) -> tuple[str, bool]:
    """'true→predicted' text for one example, and whether the prediction is right."""
    if test.task == "multi_label":
        names = np.asarray(test.classes)
        true = names[test.labels[index].numpy() > 0.5]
        predicted = names[probabilities[index].numpy() > 0.5]
        return f"{'+'.join(true)}\n→{'+'.join(predicted) or '-'}", set(true) == set(predicted)
    true, predicted = int(test.labels[index]), int(probabilities[index].argmax())
    return (f"{test.classes[true]}→{test.classes[predicted]}\n"
            f"p={probabilities[index].max():.2f}", true == predicted)


def draw(test, probabilities):
    figure = plt.figure(figsize=(12, 5.4))
    columns = EXAMPLES // ROWS
    grid = figure.add_gridspec(ROWS, 2 + columns, width_ratios=[3, 0.15] + [1] * columns,
                               wspace=0.5, hspace=0.7)
    panel = _precision_panel if test.task == "multi_label" else _confusion_panel
    panel(figure.add_subplot(grid[:, 0]), figure.add_subplot(grid[:, 1]), figure, test,
          probabilities)
    for slot in range(min(EXAMPLES, len(test))):
        axis = figure.add_subplot(grid[slot % ROWS, 2 + slot // ROWS])
        image = test.images[slot].permute(1, 2, 0).numpy()
        show_image(axis, image)
        text, right = _caption(test, probabilities, slot)
        axis.set_title(text, fontsize=6, color="black" if right else "red")
        axis.axis("off")
    return figure


def main(smk) -> None:
    with Job(smk) as job:
        model, test = classifier_and_test_split(smk.input.weights, smk.input.manifest, job.device)
        probabilities = predict(model, test.images, job.device, test.task == "multi_label")
        save_figure(draw(test, probabilities), smk.output.pdf, smk.output.png)
        job.log_figure("predictions", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
