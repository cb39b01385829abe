"""Fig. 7 of the survey: gradient, DeconvNet and guided backprop maps of real photos.

Each map explains the ImageNet classifier's top-1 class; it is the maximum over
colour channels of the absolute attribution (the survey's gradient map, Eq. 1).
"""

from common.explain import explain
from common.plotting import plt, save_figure, show_image
from common.tracking import Job
from papers.survey.photos import photos_and_model

METHODS = {"saliency": "gradient", "deconvnet": "DeconvNet", "guided_backprop": "guided backprop"}


def main(smk) -> None:
    with Job(smk, seed=0) as job:
        x, names, model, predicted = photos_and_model(smk.input.manifest, smk.params.photos,
                                                      job.device)
        maps = {method: explain(model, x, predicted, method).abs().amax(1).cpu()
                for method in METHODS}
        figure, axes = plt.subplots(len(x), len(METHODS) + 1, squeeze=False,
                                    figsize=(2.0 * (len(METHODS) + 1), 2.1 * len(x)))
        for row, name in enumerate(names):
            show_image(axes[row, 0], x[row].permute(1, 2, 0).cpu().numpy())
            axes[row, 0].set_title(f"{name}: {model.categories[predicted[row]]}", fontsize=7)
            for column, (method, values) in enumerate(maps.items(), start=1):
                axes[row, column].imshow(values[row], cmap="gray")
                axes[row, column].set_title(METHODS[method], fontsize=7)
        for axis in axes.flat:
            axis.axis("off")
        save_figure(figure, smk.output.pdf, smk.output.png)
        job.log_figure("figure7", smk.output.png)


main(snakemake)  # noqa: F821 (injected by Snakemake)
