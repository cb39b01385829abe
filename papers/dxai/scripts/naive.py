"""App. 0.E: the naive baseline. Gradient descent from x on KL(uniform || f(x_a)) gives an
"agnostic" x_a and a distinct part x - x_a; shown and measured beside DXAI's."""

import matplotlib.pyplot as plt
import pandas as pd
import torch

from common.models import load_classifier
from common.plotting import save_figure, show_image
from common.tracking import Job
from papers.dxai.decompose import naive_agnostic
from papers.dxai.evaluation import beta_auc, pixel_magnitude


def summary(method: str, distinct, x, labels, classifier, betas: int, kl=None) -> dict:
    magnitude = pixel_magnitude(distinct).flatten(1)
    return {"method": method, "beta_auc": beta_auc(classifier, x, distinct, labels, betas),
            "mean_abs_distinct": float(distinct.abs().mean()),
            "distinct_energy_in_top_5pct_pixels": float(
                magnitude.topk(max(1, magnitude.shape[1] // 20), dim=1).values.sum(1)
                .div(magnitude.sum(1).clamp(min=1e-12)).mean()),
            "final_kl_to_uniform": None if kl is None else float(kl.mean())}


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
        saved = torch.load(smk.input.decompositions, weights_only=True)
        count = settings["images"]
        x, labels = saved["images"][:count].to(job.device), saved["labels"][:count].to(job.device)
        agnostic, kl = naive_agnostic(classifier, x, settings["step"], settings["iterations"])
        naive, dxai = x - agnostic, saved["distinct"]["DXAI"][:count].to(job.device)
        rows = [summary("naive optimisation", naive, x, labels, classifier, smk.params.betas, kl),
                summary("DXAI", dxai, x, labels, classifier, smk.params.betas)]
        job.save_table("naive", pd.DataFrame(rows), smk.output.table)
        plot(x.cpu(), {"naive distinct (scaled)": naive.cpu(), "DXAI distinct (scaled)":
                       dxai.cpu()}, smk.output.pdf, smk.output.png)
        job.log_figure("naive", smk.output.png)


main(snakemake)  # noqa: F821 (injected by Snakemake)
