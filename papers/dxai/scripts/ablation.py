"""Figs. 12 and 14: the paper's DXAI against two branches and against training without the
Eq. 12 loss. From each run's history: the held-out reconstruction PSNR and the training
classification loss over iterations; and the final PSNR on the evaluation test images."""


import matplotlib.pyplot as plt
import pandas as pd

from common.data import load_split
from common.entry import snakemake_object
from common.io import load_torch
from common.plotting import save_figure
from common.tracking import Job
from papers.dxai.decompose import load_decomposer
from papers.dxai.evaluation import evaluation_sample
from papers.dxai.training import psnr


def test_psnr(model_file: str, x, labels) -> float:
    """PSNR of the reconstruction of ``x`` under the style of its true class."""
    parts = load_decomposer(model_file).to(x.device)(x, labels)
    return float(psnr(parts.reconstruction, x).mean())


def plot(table: pd.DataFrame, pdf: str, png: str) -> None:
    figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
    for variant, rows in table.groupby("variant", sort=False):
        left.plot(rows["iteration"], rows["probe_psnr"], marker=".", label=variant)
        right.plot(rows["iteration"], rows["train_classification_loss"], marker=".",
                   label=variant)
    left.set(xlabel="iteration", ylabel="PSNR of the reconstruction (dB)")
    right.set(xlabel="iteration", ylabel="classification loss (training)")
    left.legend(fontsize=7)
    save_figure(figure, pdf, png)


def main(smk) -> None:
    with Job(smk, seed=0) as job:
        test = load_split(smk.input[smk.params.dataset], "test")
        index = evaluation_sample(test, *smk.params.images)
        x, labels = test.images[index].to(job.device), test.labels[index].to(job.device)
        rows = []
        for variant, model_file in zip(smk.params.variants, smk.input.models, strict=True):
            saved = load_torch(model_file, "cpu")
            final = test_psnr(model_file, x, labels)
            rows += [{"variant": variant, "branches": saved["arch"]["branches"],
                      "iteration": record["iteration"], "probe_psnr": record["psnr"],
                      "train_classification_loss": record["g_classification"],
                      "test_psnr": final} for record in saved["history"]]
        table = pd.DataFrame(rows)
        job.save_table("ablation", table, smk.output.table)
        plot(table, smk.output.pdf, smk.output.png)
        job.log_figure("ablation", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
