"""Fig. 7a and 7b: distortion when keeping, or randomising, the most relevant components.

For every method of the evaluation's explanations file: CartoonX ranks wavelet
coefficients by its mask, Pixel RDE and every heatmap method rank pixels; a
constant mask in either representation is the random-ordering baseline. Each
point is the softmax l2 distortion averaged over noise draws, then over images.
Writes the curves (CSV, with standard errors over images and each method's
``components_per_pixel``: the positions it ranks per pixel, above 1 for the
zero-padded DWT) and the figure.
"""

import pandas as pd
import torch

from common.entry import snakemake_object
from common.io import load_torch
from common.plotting import plt, save_figure
from common.tracking import Job
from papers.cartoonx.evaluation import load_model, pixel_relevance
from papers.cartoonx.rate_distortion import components_per_pixel, distortion_curves, summarise
from papers.cartoonx.representations import Pixels, Wavelet

RANDOM_WAVELET, RANDOM_PIXELS = "random (wavelet)", "random (pixels)"


def rankings(record: dict, wavelet: Wavelet) -> dict[str, tuple[list, object]]:
    """Each method's masks with the representation they rank, plus the two random baselines."""
    pixels = Pixels()
    ranked = {"cartoonx": (record["masks"]["cartoonx"], wavelet),
              "pixel_rde": (record["masks"]["pixel_rde"], pixels)}
    ranked.update({method: ([pixel_relevance(attribution)], pixels)
                   for method, attribution in record["heatmaps"].items()})
    coefficients = wavelet.analyse(record["images"][:1])
    ranked[RANDOM_WAVELET] = ([torch.ones(len(record["images"]), 1, *part.shape[2:])
                               for part in coefficients], wavelet)
    ranked[RANDOM_PIXELS] = ([torch.ones_like(record["images"][:, :1])], pixels)
    return ranked


def draw(summary: pd.DataFrame, title: str):
    """Fig. 7a (keep) and 7b (randomise) side by side; random baselines dashed."""
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for axis, (curve, label) in zip(axes, (("keep", "non-randomised"),
                                           ("randomise", "randomised")), strict=True):
        for method, frame in summary[summary["curve"] == curve].groupby("method"):
            style = "--" if method.startswith("random") else "-"
            width = 2.2 if method == "cartoonx" else 1.0
            axis.errorbar(frame["fraction"], frame["mean"], yerr=frame["sem"], ls=style,
                          lw=width, capsize=1.5, label=method)
        axis.set_xlabel(f"fraction of {label} relevant components")
        axis.set_ylabel("distortion (softmax l2)")
        axis.set_title(f"({'a' if curve == 'keep' else 'b'}) {title}", fontsize=9)
    axes[1].legend(fontsize=6, ncol=2)
    return figure


def main(smk) -> None:
    settings = smk.params.settings
    with Job(smk, seed=settings["seed"]) as job:
        record = load_torch(smk.input.explanations)
        spec = smk.params.evaluation
        model = load_model(spec["dataset"], spec["model"], smk.params.weights, job.device)
        rde = settings["rde"]
        wavelet = Wavelet(rde["wavelet"], rde["levels"], rde["mode"])
        x = record["images"].to(job.device)
        rows = []
        size = tuple(x.shape[-2:])
        for method, (masks, representation) in rankings(record, wavelet).items():
            per_pixel = components_per_pixel(masks, size)
            rows += [{"method": method, "components_per_pixel": per_pixel, **row}
                     for row in distortion_curves(model, x, masks, representation,
                                                  settings["rate_distortion"]["fractions"],
                                                  settings["rate_distortion"]["draws"],
                                                  settings["seed"])]
        curves = summarise(rows, ["method", "components_per_pixel", "curve", "fraction"]).round(6)
        job.save_table("curves", curves, smk.output.curves)
        save_figure(draw(curves.fillna(0.0), smk.wildcards.evaluation),
                    smk.output.pdf, smk.output.png)
        job.log_figure("figure7ab", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
