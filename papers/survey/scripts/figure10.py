"""Fig. 10 of the survey: LRP-epsilon, LRP-epsilon without bias, LRP-alpha1-beta0 and FEM
on the same images, explained for their class by the survey's classifier."""

from pathlib import Path

from common.data import load_split
from common.explain import explain
from common.metrics.evaluate import images_with_objects
from common.models import load_classifier
from common.plotting import plt, save_figure, show_image
from common.tracking import Job

METHODS = {"lrp_epsilon": "LRP-epsilon", "lrp_epsilon_no_bias": "LRP-epsilon, no bias",
           "lrp_alpha1_beta0": "LRP-alpha1-beta0", "fem": "FEM"}


def main(smk) -> None:
    settings = smk.params.settings
    with Job(smk, seed=0) as job:
        split = load_split(Path(smk.input.manifest).parent, "test")
        model = load_classifier(smk.input.weights, job.device).eval()
        x, target, _ = images_with_objects(split, settings["images"],
                                           key="survey.classifier.dataset")
        x, target = x.to(job.device), target.to(job.device)
        maps = {method: explain(model, x, target, method).sum(1).cpu() for method in METHODS}
        figure, axes = plt.subplots(len(x), len(METHODS) + 1, squeeze=False,
                                    figsize=(1.9 * (len(METHODS) + 1), 2.0 * len(x)))
        for row in range(len(x)):
            show_image(axes[row, 0], x[row].permute(1, 2, 0).cpu().numpy())
            axes[row, 0].set_title(split.classes[int(target[row])], fontsize=7)
            for column, (method, values) in enumerate(maps.items(), start=1):
                limit = values[row].abs().max().clamp(min=1e-12).item()
                axes[row, column].imshow(values[row], cmap="bwr", vmin=-limit, vmax=limit)
                axes[row, column].set_title(METHODS[method], fontsize=7)
        for axis in axes.flat:
            axis.axis("off")
        save_figure(figure, smk.output.pdf, smk.output.png)
        job.log_figure("figure10", smk.output.png)


main(snakemake)  # noqa: F821 (injected by Snakemake)
