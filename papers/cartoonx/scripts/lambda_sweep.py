"""Fig. 7c: distortion and normalised l1 of CartoonX and Pixel RDE over the sparsity lambda k.

For each lambda k of the grid both methods explain the images chosen by
``lambda_sweep.images`` (from the evaluation's dataset, for their predicted
labels). Per image and lambda: the softmax l2 distortion of the final mask
(fresh noise draws, the measure of Fig. 7a/b), the optimised distortion itself,
||s||_1 / k, and the representation's ``components_per_pixel`` (k over the
pixels). The stability table quantifies Fig. 8a's "CartoonX is less sensitive
to lambda": per image, the PCC between the explanations at neighbouring
lambdas, with its chance level, in the two views of ``papers.cartoonx.agreement``
(the kept greyscale image and the mask).
"""

import pandas as pd

from common.entry import snakemake_object
from common.plotting import plt, save_figure
from common.tracking import Job
from papers.cartoonx.agreement import VIEWS, comparison_rows, neighbours
from papers.cartoonx.evaluation import evaluation_inputs, expected_softmax_l2
from papers.cartoonx.rate_distortion import components_per_pixel
from papers.cartoonx.rde import config_from_dict, explain_rde, representation_for

METHODS = ("cartoonx", "pixel_rde")


def sweep(model, x, settings) -> tuple[pd.DataFrame, dict]:
    """Rows (method, sparsity, image, scores) and the results[method][sparsity]."""
    rows, results = [], {method: {} for method in METHODS}
    for method in METHODS:
        for sparsity in settings["lambda_sweep"]["sparsity"]:
            config = config_from_dict({**settings["rde"], "seed": settings["seed"],
                                       "sparsity": sparsity})
            result = explain_rde(model, x, representation_for(method, config), config)
            results[method][sparsity] = result
            scores = {"distortion": expected_softmax_l2(model, x, result, config),
                      "optimised_distortion": result.distortion[-1],
                      "normalised_l1": result.l1[-1]}
            per_pixel = components_per_pixel(result.masks, tuple(x.shape[-2:]))
            rows += [{"method": method, "sparsity": sparsity, "image": image,
                      "components_per_pixel": per_pixel,
                      **{name: float(values[image]) for name, values in scores.items()}}
                     for image in range(len(x))]
    return pd.DataFrame(rows), results


def stability(x, results: dict, settings: dict) -> pd.DataFrame:
    """Per method, image and view: PCC and chance level of neighbouring lambdas' explanations."""
    rows = []
    for method, by_sparsity in results.items():
        rows += comparison_rows(by_sparsity, neighbours(by_sparsity), x, VIEWS,
                                settings["chance_draws"], settings["seed"], method=method)
    return pd.DataFrame(rows)


def draw(summary: pd.DataFrame, title: str):
    """Distortion and normalised l1 against lambda k, one line per method."""
    figure, axes = plt.subplots(1, 2, figsize=(8, 3))
    for axis, column in zip(axes, ("distortion", "normalised_l1"), strict=True):
        for method, frame in summary.groupby("method"):
            axis.errorbar(frame["sparsity"], frame[f"{column}_mean"],
                          yerr=frame[f"{column}_sem"].fillna(0.0), marker="o", capsize=2,
                          label=method)
        axis.set_xlabel("lambda k")
        axis.set_ylabel(column.replace("_", " "))
    axes[0].set_title(f"(c) {title}", fontsize=9)
    axes[1].legend(fontsize=7)
    return figure


def main(smk) -> None:
    spec, settings = smk.params.evaluation, smk.params.settings
    with Job(smk, seed=settings["seed"]) as job:
        model, x, _, _ = evaluation_inputs(
            spec, smk.params.weights, smk.input.manifest, job.device,
            settings["lambda_sweep"]["images"], spec["image_size"],
            key="cartoonx.lambda_sweep.images", seed=settings["seed"])
        scores, results = sweep(model, x, settings)
        table = stability(x, results, settings)
        job.save_table("scores", scores.round(6), smk.output.scores)
        job.save_table("stability", table, smk.output.stability)  # unrounded, as Fig. 8's
        summary = scores.groupby(["method", "sparsity"]).agg(
            **{f"{column}_{statistic}": (column, statistic)
               for column in ("distortion", "normalised_l1") for statistic in ("mean", "sem")}
        ).reset_index()
        save_figure(draw(summary, smk.wildcards.evaluation), smk.output.pdf, smk.output.png)
        job.log_figure("figure7c", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
