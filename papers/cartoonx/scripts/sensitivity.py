"""Fig. 8: CartoonX's sensitivity to lambda (vs Pixel RDE), noise, mother wavelet, distortion.

Each panel changes one setting of the configured CartoonX run (``cartoonx.rde``
and ``cartoonx.sparsity``) and explains the chosen images again: (a) lambda k
for CartoonX and Pixel RDE, (b) the perturbations, (c) the mother wavelets,
(d) the distortion measures, the configured value among them; the configured
run is repeated with the next noise seed, the run-to-run variation that any
effect of a setting is measured against. Writes the figure and three tables:

- scores: per variant and image, the softmax l2 distortion and ||s||_1 / k;
- agreement: per image, the PCC of two explanations with its chance level
  (``papers.cartoonx.agreement``): (a) neighbouring lambdas of each method, in
  both views; (c) every pair of wavelets, (d) every pair of distortions and
  (seed) the two seeds, in the kept-image view;
- curves: (b) Fig. 7a's keep curve of every perturbation's mask and of a random
  ordering, the coefficients not kept randomised with each perturbation in turn.
"""

import pandas as pd
import torch

from common.entry import snakemake_object
from common.plotting import plt, save_figure, show_image
from common.tracking import Job
from papers.cartoonx.agreement import VIEWS, all_pairs, comparison_rows, neighbours
from papers.cartoonx.evaluation import evaluation_inputs, expected_softmax_l2
from papers.cartoonx.rate_distortion import distortion_curves, summarise
from papers.cartoonx.rde import RDEConfig, config_from_dict, explain_rde, representation_for

METHODS = ("cartoonx", "pixel_rde")
PANELS = {"sparsity": "a", "perturbation": "b", "wavelet": "c", "distortion": "d"}
#: The key of ``cartoonx.sensitivity`` that lists the values of each panel but (a).
LISTS = {"perturbation": "perturbations", "wavelet": "wavelets", "distortion": "distortions"}


def panel_values(settings: dict, setting: str) -> list:
    """The values of one panel: the lambda grid, or the configured value and those listed."""
    sensitivity = settings["sensitivity"]
    if setting == "sparsity":
        return list(dict.fromkeys(sensitivity["sparsity"]))
    return list(dict.fromkeys([settings["rde"][setting], *sensitivity[LISTS[setting]]]))


def variants(settings: dict) -> list[tuple[str, str, object]]:
    """(panel setting, method, value) for every explanation of the figure, in drawing order."""
    chosen = [("sparsity", method, value) for method in METHODS
              for value in panel_values(settings, "sparsity")]
    for setting in LISTS:
        chosen += [(setting, "cartoonx", value) for value in panel_values(settings, setting)]
    return chosen


def variant_config(settings: dict, method: str, setting: str, value) -> RDEConfig:
    """The configured RDE settings of ``method`` with ``setting`` changed to ``value``."""
    return config_from_dict({**settings["rde"], "seed": settings["seed"],
                             "sparsity": settings["sparsity"][method], setting: value})


def explain_all(model, x, settings) -> tuple[dict, dict, pd.DataFrame]:
    """Results keyed by (setting, method, value), CartoonX's configured run under two seeds,
    and the scores per variant and image.

    A variant equal to the configured run (db3 among the wavelets, say) is
    computed once: results are cached by method and settings.
    """
    cache = {}

    def run(method, config):
        if (method, config) not in cache:
            cache[method, config] = explain_rde(model, x, representation_for(method, config),
                                                config)
        return cache[method, config]

    results, rows = {}, []
    for setting, method, value in variants(settings):
        config = variant_config(settings, method, setting, value)
        result = results[setting, method, value] = run(method, config)
        scores = {"distortion": expected_softmax_l2(model, x, result, config),
                  "normalised_l1": result.l1[-1]}
        rows += [{"panel": PANELS[setting], "setting": setting, "method": method,
                  "value": str(value), "image": image,
                  **{name: float(values[image]) for name, values in scores.items()}}
                 for image in range(len(x))]
    seed = settings["seed"]
    seeds = {f"seed {value}": run("cartoonx", variant_config(settings, "cartoonx", "seed", value))
             for value in (seed, seed + 1)}
    return results, seeds, pd.DataFrame(rows)


def agreement_table(x, results: dict, seeds: dict, settings: dict) -> pd.DataFrame:
    """PCC and chance level per image: (a) neighbouring lambdas of each method in both views;
    (c) and (d) every pair of values, and the two seeds, in the kept-image view."""
    draws, seed = settings["chance_draws"], settings["seed"]

    def panel(setting, method):
        return {value: results[setting, method, value]
                for value in panel_values(settings, setting)}

    rows = []
    for method in METHODS:
        lambdas = panel("sparsity", method)
        rows += comparison_rows(lambdas, neighbours(lambdas), x, VIEWS, draws, seed,
                                panel="a", method=method)
    for setting in ("wavelet", "distortion"):
        values = panel(setting, "cartoonx")
        rows += comparison_rows(values, all_pairs(values), x, ("kept",), draws, seed,
                                panel=PANELS[setting], method="cartoonx")
    rows += comparison_rows(seeds, [tuple(seeds)], x, ("kept",), draws, seed, panel="seed",
                            method="cartoonx")
    return pd.DataFrame(rows)


def perturbation_curves(model, x, results: dict, settings: dict) -> pd.DataFrame:
    """(b): Fig. 7a's keep curve (softmax l2) of each perturbation's mask and a random
    ordering (a constant mask), the coefficients not kept randomised with each perturbation."""
    values = panel_values(settings, "perturbation")
    masks = {value: results["perturbation", "cartoonx", value] for value in values}
    configured = masks[settings["rde"]["perturbation"]]
    rankings = {**{value: result.masks for value, result in masks.items()},
                "random": [torch.ones_like(mask) for mask in configured.masks]}
    rate_distortion = settings["rate_distortion"]
    rows = []
    for randomisation in values:
        for mask, ranking in rankings.items():
            rows += [{"mask": mask, "randomisation": randomisation, **row}
                     for row in distortion_curves(model, x, ranking, configured.representation,
                                                  rate_distortion["fractions"],
                                                  rate_distortion["draws"], settings["seed"],
                                                  randomisation, curves=("keep",))]
    return summarise(rows, ["mask", "randomisation", "curve", "fraction"])


def draw(x, explanations: dict):
    """One row per image and panel row: the image, then the panel's explanations."""
    panel_rows = [(setting, method) for setting, method in dict.fromkeys(
        (setting, method) for setting, method, _ in explanations)]
    columns = 1 + max(sum(1 for key in explanations if key[:2] == row) for row in panel_rows)
    figure, axes = plt.subplots(len(panel_rows) * len(x), columns, squeeze=False,
                                figsize=(1.4 * columns, 1.5 * len(panel_rows) * len(x)))
    for image in range(len(x)):
        for offset, (setting, method) in enumerate(panel_rows):
            row = axes[image * len(panel_rows) + offset]
            show_image(row[0], x[image].permute(1, 2, 0).cpu().numpy())
            row[0].set_title(f"({PANELS[setting]}) {method}", fontsize=6)
            values = [key for key in explanations if key[:2] == (setting, method)]
            for axis, key in zip(row[1:], values, strict=False):
                picture = explanations[key][image, 0].cpu()
                axis.imshow(picture, cmap="viridis" if method == "pixel_rde" else "gray",
                            vmin=0, vmax=1)
                axis.set_title(f"{setting} {key[2]}", fontsize=6)
    for axis in axes.flat:
        axis.axis("off")
    return figure


def main(smk) -> None:
    spec, settings = smk.params.evaluation, smk.params.settings
    with Job(smk, seed=settings["seed"]) as job:
        model, x, _, _ = evaluation_inputs(
            spec, smk.params.weights, smk.input.manifest, job.device,
            settings["sensitivity"]["images"], spec["image_size"],
            key="cartoonx.sensitivity.images", seed=settings["seed"])
        results, seeds, scores = explain_all(model, x, settings)
        job.save_table("sensitivity", scores.round(6), smk.output.scores)
        job.save_table("agreement", agreement_table(x, results, seeds, settings),
                       smk.output.agreement)  # unrounded: the chance correction divides
        job.save_table("curves", perturbation_curves(model, x, results, settings).round(6),
                       smk.output.curves)
        explanations = {key: result.explanation for key, result in results.items()}
        save_figure(draw(x, explanations), smk.output.pdf, smk.output.png)
        job.log_figure("figure8", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
