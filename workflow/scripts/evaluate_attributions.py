"""Every attribution method scored by every metric on one trained classifier.

The test images whose target class has a ground-truth object are explained
for their true class; each map gets the faithfulness, localisation and
comparison scores of common/metrics. Writes the per-image scores, a summary
per method and metric (mean, standard error, direction, seconds per image),
and a grid of maps.
"""

import time

import pandas as pd
import torch

from common.entry import snakemake_object
from common.explain import METHODS, explain
from common.metrics import METRICS
from common.metrics.evaluate import MetricSettings, all_scores, images_with_objects
from common.models import classifier_and_test_split
from common.plotting import plt, save_figure, show_image
from common.tracking import Job

FIGURE_IMAGES = 4


def score_method(model, x, target, mask, method, params, settings):
    """Per-image scores of one method as rows, its maps, and its seconds per image."""
    started = time.perf_counter()
    attribution = explain(model, x, target, method, **params)
    seconds = (time.perf_counter() - started) / len(x)
    scores = all_scores(model, x, attribution, target, mask, settings)
    rows = [{"method": method, "metric": metric, "image": image, "score": value}
            for metric, values in scores.items() for image, value in enumerate(values.tolist())]
    return rows, attribution, seconds


def summarise(scores: pd.DataFrame, seconds: dict[str, float]) -> pd.DataFrame:
    """Mean, standard error and count per method and metric, with direction and runtime."""
    summary = (scores.groupby(["method", "metric"])["score"]
               .agg(mean="mean", sem="sem", n="count").reset_index())
    summary["higher_is_better"] = summary["metric"].map(
        lambda name: METRICS[name].higher_is_better)
    summary["seconds_per_image"] = summary["method"].map(seconds)
    return summary.round(5)


def draw(x, maps: dict[str, torch.Tensor], mask):
    """Rows: images; columns: the image with its mask outline, then one map per method."""
    columns = len(maps) + 1
    figure, axes = plt.subplots(FIGURE_IMAGES, columns, squeeze=False,
                                figsize=(1.1 * columns, 1.2 * FIGURE_IMAGES))
    for row in range(min(FIGURE_IMAGES, len(x))):
        show_image(axes[row, 0], x[row].permute(1, 2, 0).cpu().numpy())
        axes[row, 0].contour(mask[row, 0].cpu().numpy(), levels=[0.5], colors="yellow",
                             linewidths=0.6)
        for column, (method, attribution) in enumerate(maps.items(), start=1):
            heat = attribution[row].sum(0).cpu()
            limit = heat.abs().max().clamp(min=1e-12).item()
            axes[row, column].imshow(heat, cmap="bwr", vmin=-limit, vmax=limit)
            if row == 0:
                axes[row, column].set_title(method, fontsize=5, rotation=30)
    for axis in axes.flat:
        axis.axis("off")
    return figure


def main(smk) -> None:
    evaluation = smk.params.evaluation
    settings = MetricSettings(**evaluation["metrics"])
    methods = sorted(METHODS) if evaluation["methods"] == "all" else evaluation["methods"]
    with Job(smk, seed=evaluation["seed"]) as job:
        model, test = classifier_and_test_split(smk.input.weights, smk.input.manifest, job.device)
        x, target, mask = (t.to(job.device) for t in images_with_objects(test,
                                                                        evaluation["images"]))
        rows, maps, seconds = [], {}, {}
        for method in methods:
            params = evaluation["method_params"].get(method, {})
            method_rows, maps[method], seconds[method] = score_method(
                model, x, target, mask, method, params, settings)
            rows += method_rows
            job.log({f"seconds_per_image/{method}": seconds[method]})
        scores = pd.DataFrame(rows)
        summary = summarise(scores, seconds)
        job.save_table("scores", scores, smk.output.scores)
        job.save_table("summary", summary, smk.output.summary)
        save_figure(draw(x, maps, mask), smk.output.pdf, smk.output.png)
        job.log_figure("maps", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
