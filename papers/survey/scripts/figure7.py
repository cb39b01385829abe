"""Fig. 7 of the survey: gradient, DeconvNet and guided backprop maps of real photos.

Each map explains the ImageNet classifier's top-1 class; it is the maximum over
colour channels of the absolute attribution (the survey's gradient map, Eq. 1).
"""

from common.entry import snakemake_object
from common.explain import explain
from common.plotting import map_grid, save_figure
from common.tracking import Job
from papers.survey.photos import photos_and_model

METHODS = {"saliency": "gradient", "deconvnet": "DeconvNet", "guided_backprop": "guided backprop"}


def main(smk) -> None:
    with Job(smk, seed=0) as job:
        x, names, model, predicted = photos_and_model(smk.input.manifest, smk.params.photos,
                                                      job.device)
        maps = {title: explain(model, x, predicted, method).abs().amax(1)
                for method, title in METHODS.items()}
        titles = [f"{name}: {model.categories[label]}" for name, label in zip(
            names, predicted.tolist(), strict=True)]
        figure = map_grid(x, titles, maps,
                          signed=False)
        save_figure(figure, smk.output.pdf, smk.output.png)
        job.log_figure("figure7", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
