"""Qualitative grid of one dataset (Figs. 7 and 15-29): input, DXAI's distinct and agnostic
parts, then each heatmap method's distinct part (attr / max|attr| * (x - 0.5), about grey),
each image explained for its true class with the explained classifier."""

import matplotlib.pyplot as plt
import torch

from common.entry import snakemake_object
from common.io import load_torch
from common.plotting import save_figure, show_image
from common.tracking import Job

SHOWN_PER_CLASS = 2


def shown_images(labels: torch.Tensor) -> list[int]:
    """The first images of each class."""
    return [int(index) for value in labels.unique()
            for index in (labels == value).nonzero()[:SHOWN_PER_CLASS, 0]]


def as_picture(part: torch.Tensor, signed: bool):
    """(C, H, W) as an (H, W, C) array: signed parts centred on grey, scaled per image."""
    if signed:
        part = part / (2 * part.abs().max().clamp(min=1e-12)) + 0.5
    return part.clamp(0, 1).permute(1, 2, 0).numpy()


def main(smk) -> None:
    with Job(smk) as job:
        saved = load_torch(smk.input.decompositions)
        rows = shown_images(saved["labels"])
        columns = {"input": (saved["images"], False), "DXAI agnostic": (saved["agnostic"], False)}
        columns |= {f"{name} distinct": (part, True) for name, part in saved["distinct"].items()}
        figure, axes = plt.subplots(len(rows), len(columns), squeeze=False,
                                    figsize=(1.6 * len(columns), 1.7 * len(rows)))
        classes = saved["classes"]
        for row, index in enumerate(rows):
            for column, (name, (parts, signed)) in enumerate(columns.items()):
                show_image(axes[row, column], as_picture(parts[index], signed))
                axes[row, column].set_title(name if row == 0 else "", fontsize=6)
            axes[row, 0].set_title(f"{'input: ' if row == 0 else ''}"
                                   f"{classes[saved['labels'][index]]} -> "
                                   f"{classes[saved['predicted'][index]]}", fontsize=6)
        for axis in axes.flat:
            axis.axis("off")
        save_figure(figure, smk.output.pdf, smk.output.png)
        job.log_figure("grid", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
