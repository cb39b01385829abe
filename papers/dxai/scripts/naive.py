"""App. 0.E: the naive baseline. Gradient descent from x on KL(uniform || f(x_a)) gives an
"agnostic" x_a and a distinct part x - x_a; shown and measured beside DXAI's and beside a
random decomposition (Table 1's random row) on the same images, each explained for its true
class. For every row the KL to uniform of the images and of x - x_distinct (for the naive
baseline its final x_a), Table 1's beta-AUC, and the size and concentration of the part."""

import matplotlib.pyplot as plt
import pandas as pd
import torch

from common.entry import snakemake_object
from common.explain import explain
from common.io import load_torch
from common.metrics.faithfulness import distinct_part
from common.models import load_classifier
from common.plotting import save_figure, show_image
from common.tracking import Job
from papers.dxai.decompose import kl_to_uniform, naive_agnostic
from papers.dxai.evaluation import NAIVE, RANDOM, REFERENCE, beta_auc, pixel_magnitude


@torch.no_grad()
def mean_kl_to_uniform(classifier, images) -> float:
    return float(kl_to_uniform(classifier(images)).mean())


def summary(method: str, distinct, x, labels, classifier, betas: int) -> dict:
    magnitude = pixel_magnitude(distinct).flatten(1)
    return {"method": method, "beta_auc": beta_auc(classifier, x, distinct, labels, betas),
            "mean_abs_distinct": float(distinct.abs().mean()),
            "distinct_energy_in_top_5pct_pixels": float(
                magnitude.topk(max(1, magnitude.shape[1] // 20), dim=1).values.sum(1)
                .div(magnitude.sum(1).clamp(min=1e-12)).mean()),
            "kl_to_uniform_before": mean_kl_to_uniform(classifier, x),
            "kl_to_uniform_after": mean_kl_to_uniform(classifier, x - distinct)}


def plot(x, parts: dict, pdf: str, png: str) -> None:
    figure, axes = plt.subplots(len(x), len(parts) + 1, squeeze=False,
                                figsize=(1.7 * (len(parts) + 1), 1.7 * len(x)))
    for row in range(len(x)):
        show_image(axes[row, 0], x[row].permute(1, 2, 0).numpy())
        for column, (name, part) in enumerate(parts.items(), start=1):
            scaled = part[row] / (2 * part[row].abs().max().clamp(min=1e-12)) + 0.5
            show_image(axes[row, column], scaled.permute(1, 2, 0).numpy())
            axes[0, column].set_title(name, fontsize=7)
    axes[0, 0].set_title("input", fontsize=7)
    for axis in axes.flat:
        axis.axis("off")
    save_figure(figure, pdf, png)


def main(smk) -> None:
    settings = smk.params.naive
    with Job(smk, seed=0) as job:
        classifier = load_classifier(smk.input.classifier, job.device)
        saved = load_torch(smk.input.decompositions)
        count = settings["images"]
        x, labels = saved["images"][:count].to(job.device), saved["labels"][:count].to(job.device)
        agnostic, _ = naive_agnostic(classifier, x, settings["step"], settings["iterations"])
        parts = {NAIVE: x - agnostic,
                 "DXAI": saved["distinct"]["DXAI"][:count].to(job.device),
                 RANDOM: distinct_part(explain(classifier, x, labels, RANDOM), x,
                                       reference=REFERENCE)}
        rows = [summary(method, part, x, labels, classifier, smk.params.betas)
                for method, part in parts.items()]
        job.save_table("naive", pd.DataFrame(rows), smk.output.table)
        plot(x.cpu(), {f"{method} distinct (scaled)": parts[method].cpu()
                       for method in (NAIVE, "DXAI")},
             smk.output.pdf, smk.output.png)
        job.log_figure("naive", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
