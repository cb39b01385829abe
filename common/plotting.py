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
