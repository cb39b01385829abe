"""Generate one procedural dataset: train/test splits, a manifest and a preview figure."""

import numpy as np

from common.data import GENERATORS
from common.data.store import save_split
from common.io import sha256_file, write_json
from common.plotting import plt, save_figure
from common.tracking import Job


def preview(images: np.ndarray, labels: np.ndarray, masks: np.ndarray, classes, per_class=6):
    """A grid of examples, one row per class, with the evidence mask outlined."""
    figure, axes = plt.subplots(len(classes), per_class, figsize=(1.4 * per_class,
                                                                  1.5 * len(classes)))
    for row, name in enumerate(classes):
        picks = np.flatnonzero(labels == row)[:per_class]
        for column, axis in enumerate(axes[row]):
            axis.imshow(images[picks[column]])
            axis.contour(masks[picks[column]], levels=[0.5], colors="white", linewidths=0.6)
            axis.set_xticks([])
            axis.set_yticks([])
        axes[row, 0].set_ylabel(name)
    figure.suptitle("examples per class; white outline: ground-truth evidence mask")
    return figure


def main(smk) -> None:
    params = smk.params.settings
    generator = GENERATORS[smk.wildcards.dataset]
    splits = {"train": params["n_train"], "test": params["n_test"]}
    with Job(smk, seed=params["seed"]) as job:
        arrays = {}
        for split, count in splits.items():
            arrays[split] = generator.generate(params["seed"], split, count, params["image_size"])
            save_split(smk.output[split], *arrays[split])
        save_figure(preview(*arrays["train"], generator.CLASSES), smk.output.preview)
        write_json(smk.output.manifest, {
            "name": smk.wildcards.dataset,
            "classes": list(generator.CLASSES),
            "image_size": params["image_size"],
            "counts": splits,
            "files": {f"{split}.npz": sha256_file(smk.output[split]) for split in splits},
        })
        job.log({f"examples_{split}": count for split, count in splits.items()})
        job.log_figure("preview", smk.output.preview)


main(snakemake)  # noqa: F821 (injected by Snakemake)
