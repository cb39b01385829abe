"""Fig. 8: CartoonX's sensitivity to lambda (vs Pixel RDE), noise, mother wavelet, distortion.

Each panel changes one setting of the configured CartoonX run (``cartoonx.rde``
and ``cartoonx.sparsity``) and explains the chosen images again: (a) lambda k
for CartoonX and Pixel RDE, (b) adaptive Gaussian vs zero perturbations, (c) the
mother wavelet, (d) the distortion measure. Writes the figure and a table with,
per variant and image, the softmax l2 distortion, ||s||_1 / k, and the PCC of the
explanation with that of the configured run of the same method.
"""

import pandas as pd

from common.metrics.comparison import pcc
from common.plotting import plt, save_figure, show_image
from common.tracking import Job
from papers.cartoonx.evaluation import evaluation_inputs, expected_softmax_l2
from papers.cartoonx.rde import RDEConfig, config_from_dict, explain_rde, representation_for

PANELS = {"sparsity": "a", "perturbation": "b", "wavelet": "c", "distortion": "d"}


def variants(settings: dict) -> list[tuple[str, str, object]]:
    """(panel setting, method, value) for every explanation of the figure, in drawing order."""
    sensitivity = settings["sensitivity"]
    chosen = [("sparsity", method, value) for method in ("cartoonx", "pixel_rde")
              for value in sensitivity["sparsity"]]
    for setting in ("perturbation", "wavelet", "distortion"):
        chosen += [(setting, "cartoonx", value) for value in sensitivity[f"{setting}s"]]
    return chosen


def variant_config(settings: dict, method: str, setting: str, value) -> RDEConfig:
    """The configured RDE settings of ``method`` with ``setting`` changed to ``value``."""
    return config_from_dict({**settings["rde"], "seed": settings["seed"],
                             "sparsity": settings["sparsity"][method], setting: value})


def explain_all(model, x, settings) -> tuple[dict, pd.DataFrame]:
    """Explanations keyed by (setting, method, value), and their scores per image.

    A variant equal to the configured run (db3 among the wavelets, say) is
    computed once: results are cached by method and settings.
    """
    cache = {}

    def run(method, config):
        if (method, config) not in cache:
            cache[method, config] = explain_rde(model, x, representation_for(method, config),
                                                config)
        return cache[method, config]

    explanations, rows = {}, []
    base = {method: run(method, variant_config(settings, method, "seed", settings["seed"]))
            .explanation for method in ("cartoonx", "pixel_rde")}
    for setting, method, value in variants(settings):
        config = variant_config(settings, method, setting, value)
        result = run(method, config)
        explanations[setting, method, value] = result.explanation
        scores = {"distortion": expected_softmax_l2(model, x, result, config),
                  "normalised_l1": result.l1[-1],
                  "pcc_with_configured": pcc(result.explanation, base[method])}
        rows += [{"panel": PANELS[setting], "setting": setting, "method": method,
                  "value": str(value), "image": image,
                  **{name: float(values[image]) for name, values in scores.items()}}
                 for image in range(len(x))]
    return explanations, pd.DataFrame(rows)


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
        model, x, _, _ = evaluation_inputs(smk, job.device, settings["sensitivity"]["images"],
                                           spec["image_size"], key="cartoonx.sensitivity.images",
                                           seed=settings["seed"])
        explanations, scores = explain_all(model, x, settings)
        job.save_table("sensitivity", scores.round(6), smk.output.scores)
        save_figure(draw(x, explanations), smk.output.pdf, smk.output.png)
        job.log_figure("figure8", smk.output.png)


main(snakemake)  # noqa: F821 (injected by Snakemake)
