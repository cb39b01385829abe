"""Fig. 8 of the survey: the straight path of Integrated Gradients from a black baseline.

Top: the path images alpha * x for seven alphas in [0, 1] (the survey's figure);
below, per photo, the top-1 class probability along the path and the resulting
Integrated Gradients map (registry defaults: black baseline, Gauss-Legendre rule).
"""

import torch

from common.entry import snakemake_object
from common.explain import explain
from common.plotting import plt, save_figure, show_image
from common.tracking import Job
from papers.survey.photos import photos_and_model

ALPHAS = torch.linspace(0, 1, 7)
CURVE = torch.linspace(0, 1, 41)


@torch.no_grad()
def path_probability(model, image, label) -> torch.Tensor:
    """The label's softmax probability at alpha * image for every alpha of ``CURVE``."""
    path = CURVE.to(image).view(-1, 1, 1, 1) * image
    return model(path).softmax(1)[:, label].cpu()


def main(smk) -> None:
    with Job(smk, seed=0) as job:
        x, names, model, predicted = photos_and_model(smk.input.manifest, smk.params.photos,
                                                      job.device)
        maps = explain(model, x, predicted, "integrated_gradients").abs().sum(1).cpu()
        figure, axes = plt.subplots(1 + len(x), len(ALPHAS), squeeze=False,
                                    figsize=(1.6 * len(ALPHAS), 1.8 * (1 + len(x))))
        for column, alpha in enumerate(ALPHAS.tolist()):
            show_image(axes[0, column], (alpha * x[0]).permute(1, 2, 0).cpu().numpy())
            axes[0, column].set_title(f"alpha = {alpha:.2f}", fontsize=7)
        for row, name in enumerate(names, start=1):
            label = int(predicted[row - 1])
            axes[row, 0].plot(CURVE, path_probability(model, x[row - 1], label))
            axes[row, 0].set(xlabel="alpha", ylim=(0, 1))
            axes[row, 0].set_title(f"{name}: p({model.categories[label]})", fontsize=6)
            axes[row, 1].imshow(maps[row - 1], cmap="gray")
            axes[row, 1].set_title("Integrated Gradients", fontsize=7)
            for axis in axes[row, 1:]:
                axis.axis("off")
        for axis in axes[0]:
            axis.axis("off")
        save_figure(figure, smk.output.pdf, smk.output.png)
        job.log_figure("figure8", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
