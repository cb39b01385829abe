"""The ViT part of the course on the zoo's ViT: the TextSpan decomposition of the class
logit and its check, head weights from a probing set, and localisation of the maps.

Outputs: the decomposition table (each term's mean |contribution| and the largest
|logit - sum of terms|), a figure of the per-layer, per-head contributions beside
the CHILI head weights, the localisation table of TextSpan, TextSpan after
pseudo-register removal, CHILI object and context maps, LeGrad and noise, and a
figure of those maps.
"""

from typing import NamedTuple

import pandas as pd
import torch

from common.entry import snakemake_object
from common.models import load_classifier
from common.plotting import map_grid, plt, save_figure
from common.tracking import Job
from papers.course import scoring
from papers.course.transformer import (
    Decomposition,
    decompose,
    head_ious,
    head_weights,
    legrad,
    median_filter,
    to_pixels,
)

FIGURE_IMAGES = 4


class Explained(NamedTuple):
    """Images, the class each is explained for, that class's masks, and the decomposition."""

    x: torch.Tensor
    target: torch.Tensor
    masks: torch.Tensor
    decomposition: Decomposition
    classes: tuple[str, ...]


def explained(model, manifest: str, split: str, count: int, device: str) -> Explained:
    scenes = scoring.scenes_images(manifest, split, count)
    x = scenes.images.to(device)
    target = scoring.explained_class(model, x, scenes.labels)
    masks = scoring.class_masks(scenes.masks, target)
    return Explained(x, target, masks, decompose(model, x, target), scenes.classes)


def decomposition_rows(decomposition) -> list[dict]:
    """Mean |term| over images for the heads' total and each residual term, and the check."""
    error = (decomposition.total() - decomposition.logit).abs().max().item()
    terms = {"attention heads (sum over l, h, i)": decomposition.tokens.flatten(1).sum(1),
             **decomposition.residual, "logit": decomposition.logit}
    return [{"term": name, "mean_abs": values.abs().mean().item(),
             "mean": values.mean().item(), "max_identity_error": error}
            for name, values in terms.items()]


def heads_figure(contributions: torch.Tensor, weights: torch.Tensor):
    """Mean per-(layer, head) contribution to the explained logit, beside w_{l,h}."""
    figure, axes = plt.subplots(1, 2, figsize=(7.5, 2.8))
    panels = {"mean contribution to the logit": contributions, "CHILI head weight w": weights}
    for axis, (title, values) in zip(axes, panels.items(), strict=True):
        image = axis.imshow(values.cpu().numpy(), cmap="viridis")
        axis.set(title=title, xlabel="head", ylabel="layer",
                 xticks=range(values.shape[1]), yticks=range(values.shape[0]))
        figure.colorbar(image, ax=axis, fraction=0.046)
    return figure


def token_maps(model, x, target, decomposition, weights, median_size: int) -> dict:
    """Every ViT map of the course at token resolution, (B, g, g)."""
    grid = decomposition.grid()
    filtered = median_filter(grid, median_size)
    per_head = weights.view(1, *weights.shape, 1, 1)
    return {"TextSpan": grid.sum((1, 2)),
            "TextSpan, registers removed": filtered.sum((1, 2)),
            "CHILI object": (per_head * filtered).sum((1, 2)),
            "CHILI context": ((1 - per_head) * filtered).sum((1, 2)),
            "LeGrad": legrad(model, x, target)}


def main(smk) -> None:
    settings, vit = smk.params.localisation, smk.params.vit
    with Job(smk, seed=0) as job:
        model = load_classifier(smk.input.weights, job.device)
        probe = explained(model, smk.input.scenes, "train", vit["probing_images"], job.device)
        probe_filtered = median_filter(probe.decomposition.grid(), vit["median_size"])
        weights = head_weights(head_ious(probe_filtered, probe.masks), vit["alpha"])
        x, target, masks, decomposition, classes = explained(
            model, smk.input.scenes, "test", settings["images"], job.device)
        job.save_table("vit_decomposition", pd.DataFrame(decomposition_rows(decomposition)),
                       smk.output.decomposition)
        save_figure(heads_figure(decomposition.tokens.sum(-1).mean(0), weights),
                    smk.output.heads_pdf, smk.output.heads_png)
        maps = {name: to_pixels(values, x.shape[-2:]) for name, values in
                token_maps(model, x, target, decomposition, weights, vit["median_size"]).items()}
        scored = maps | {"random (baseline)": scoring.random_maps(masks.shape, seed=0)}
        rows = [{"map": name, "images": len(x),
                 **scoring.localisation(values, masks, settings["tolerance"])}
                for name, values in scored.items()]
        job.save_table("vit_localisation", pd.DataFrame(rows), smk.output.table)
        shown = {name: values[:FIGURE_IMAGES] for name, values in maps.items()}
        titles = [classes[int(label)] for label in target[:FIGURE_IMAGES]]
        save_figure(map_grid(x[:FIGURE_IMAGES], titles, shown, signed=True),
                    smk.output.maps_pdf, smk.output.maps_png)
        job.log_figure("vit_heads", smk.output.heads_png)
        job.log_figure("vit_maps", smk.output.maps_png)


if __name__ == "__main__":
    main(snakemake_object())
