"""Figure helpers shared by every figure script: headless backend and atomic saving."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from common.io import atomic_path  # noqa: E402


def save_figure(figure, *paths) -> None:
    """Save ``figure`` to each path (format from the suffix), atomically, then close it."""
    for path in paths:
        with atomic_path(path) as temporary:
            figure.savefig(temporary, dpi=150, bbox_inches="tight",
                           metadata={"CreationDate": None} if str(path).endswith(".pdf") else None)
    plt.close(figure)


def show_image(axis, image, vmax: float = 1.0) -> None:
    """Show an (H, W, C) image: colour as it is, one channel in grey from 0 to ``vmax``."""
    if image.shape[-1] == 1:
        axis.imshow(image[..., 0], cmap="gray", vmin=0, vmax=vmax)
    else:
        axis.imshow(image)


def map_grid(x, row_titles, maps: dict, signed: bool):
    """One row per image: the image (titled ``row_titles``), then one map per entry of
    ``maps`` (title: map tensor (B, H, W)); ``signed`` maps are drawn red/blue around zero
    per image, the others in grey."""
    columns = len(maps) + 1
    figure, axes = plt.subplots(len(x), columns, squeeze=False,
                                figsize=(1.9 * columns, 2.0 * len(x)))
    for row, title in enumerate(row_titles):
        show_image(axes[row, 0], x[row].permute(1, 2, 0).cpu().numpy())
        axes[row, 0].set_title(title, fontsize=7)
        for column, (name, values) in enumerate(maps.items(), start=1):
            image = values[row].detach().cpu()
            if signed:
                limit = image.abs().max().clamp(min=1e-12).item()
                axes[row, column].imshow(image, cmap="bwr", vmin=-limit, vmax=limit)
            else:
                axes[row, column].imshow(image, cmap="gray")
            axes[row, column].set_title(name, fontsize=7)
    for axis in axes.flat:
        axis.axis("off")
    return figure
