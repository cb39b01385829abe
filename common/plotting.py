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
