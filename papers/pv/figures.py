"""Figure layouts shared by the PV scripts."""

from __future__ import annotations

import torch

from common.plotting import plt


def reconstruction_figure(x: torch.Tensor, reconstructions: dict[str, torch.Tensor]):
    """A row of inputs, then one row of reconstructions per named decoder."""
    rows = ["input", *reconstructions]
    figure, axes = plt.subplots(len(rows), len(x), squeeze=False,
                                figsize=(1.4 * len(x), 1.5 * len(rows)))
    for row, (name, images) in enumerate(zip(rows, [x, *reconstructions.values()], strict=True)):
        for column, image in enumerate(images):
            axes[row, column].imshow(image.permute(1, 2, 0).numpy())
            axes[row, column].axis("off")
        axes[row, 0].set_title(name, fontsize=7, loc="left")
    return figure
