"""Build one dataset (generated or shipped): its splits, a manifest and a preview figure."""

from pathlib import Path

import numpy as np

from common.data import DATASETS, build_dataset
from common.data.store import save_split
from common.entry import snakemake_object
from common.io import sha256_file, write_json
from common.plotting import plt, save_figure, show_image
from common.tracking import Job

PER_ROW = 6


def _rows(arrays, spec, classes):
    """(row title, example indices) per class, or one row of the first images."""
    if spec.task == "single_label":
        return [(name, np.flatnonzero(arrays.labels == index)[:PER_ROW])
                for index, name in enumerate(classes)]
    if spec.task == "multi_label":
        return [("", np.arange(start, start + PER_ROW)) for start in (0, PER_ROW)]
    return [("", np.arange(min(PER_ROW, len(arrays.images))))]


def _title(arrays, spec, classes, index) -> str:
    if spec.task == "multi_label":
        return "+".join(name for name, on in zip(classes, arrays.labels[index],
                                                 strict=True) if on)
    return str(arrays.names[index]) if arrays.names is not None else ""


def preview(arrays, spec, classes):
    """Examples (a row per class where labels are single), ground-truth masks outlined."""
    rows = _rows(arrays, spec, classes)
    figure, axes = plt.subplots(len(rows), PER_ROW, figsize=(1.6 * PER_ROW, 1.7 * len(rows)),
                                squeeze=False)
    for (row_title, picks), row_axes in zip(rows, axes, strict=True):
        for index, axis in zip(picks, row_axes, strict=False):
            image = arrays.images[index]
            show_image(axis, image, vmax=255)
            if arrays.masks is not None:
                mask = arrays.masks[index]
                axis.contour(mask.any(0) if mask.ndim == 3 else mask, levels=[0.5],
                             colors="cyan", linewidths=0.6)
            axis.set_title(_title(arrays, spec, classes, index), fontsize=6)
        for axis in row_axes:
            axis.set_xticks([])
            axis.set_yticks([])
        row_axes[0].set_ylabel(row_title)
    has_masks = " (cyan: ground-truth evidence mask)" if arrays.masks is not None else ""
    figure.suptitle(f"examples{has_masks}", fontsize=9)
    return figure


def main(smk) -> None:
    settings = smk.params.settings
    name = Path(smk.output.manifest).parent.name
    spec = DATASETS[name]
    with Job(smk, seed=settings.get("seed")) as job:
        splits, classes = build_dataset(name, settings)
        for split, arrays in splits.items():
            save_split(smk.output[split], arrays)
        save_figure(preview(splits[spec.splits[0]], spec, classes), smk.output.preview)
        write_json(smk.output.manifest, {
            "name": name,
            "classes": list(classes),
            "source": settings.get("root") or "generated or shipped",
            "task": spec.task,
            "image_size": settings["image_size"],
            "channels": int(splits[spec.splits[0]].images.shape[-1]),
            "counts": {split: len(arrays.images) for split, arrays in splits.items()},
            "files": {f"{split}.npz": sha256_file(smk.output[split]) for split in splits},
        })
        job.log({f"examples_{split}": len(arrays.images) for split, arrays in splits.items()})
        job.log_figure("preview", smk.output.preview)


if __name__ == "__main__":
    main(snakemake_object())
