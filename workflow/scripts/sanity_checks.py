"""Sanity checks of Adebayo et al. for the chosen attribution methods on one classifier.

Cascading and independent model-parameter randomisation (layer by layer, from
the logits down) and data randomisation (the same architecture trained on
permuted labels): the similarity (SSIM, Spearman, HOG-PCC of absolute maps) of
each map to the trained model's map. Writes one table and one figure.
"""


import pandas as pd

from common.entry import snakemake_object
from common.explain import explain
from common.metrics.sanity import SIMILARITIES, parameter_randomisation, similarities
from common.models import classifier_and_test_split, load_classifier
from common.plotting import plt, save_figure
from common.tracking import Job


def randomisation_rows(model, x, target, method, params, seed, reference) -> list[dict]:
    """One row per (test, stage, similarity) with the mean and standard deviation over images,
    each randomised model's map compared with ``reference``, the trained model's."""
    rows = []
    for test, cascading in (("cascading", True), ("independent", False)):
        for depth, record in enumerate(parameter_randomisation(
                model, x, target, method, cascading=cascading, seed=seed, reference=reference,
                **params)):
            rows += [{"method": method, "test": test, "depth": depth, "stage": record["stage"],
                      "similarity": name, "mean": record[name].nanmean().item(),
                      "std": record[name].std().item()} for name in SIMILARITIES]
    return rows


def label_rows(permuted, x, target, method, params, reference) -> list[dict]:
    """Similarity of the trained model's maps (``reference``) to those of the permuted-label
    model."""
    scores = similarities(reference, explain(permuted, x, target, method, **params))
    return [{"method": method, "test": "labels", "depth": 0, "stage": "all",
             "similarity": name, "mean": values.nanmean().item(), "std": values.std().item()}
            for name, values in scores.items()]


def draw(table: pd.DataFrame):
    """One panel per similarity: the cascading curves of every method, stage by stage."""
    cascading = table[table["test"] == "cascading"]
    stages = cascading.drop_duplicates("depth").sort_values("depth")["stage"].tolist()
    figure, axes = plt.subplots(1, len(SIMILARITIES), figsize=(4 * len(SIMILARITIES), 3.4),
                                sharey=True)
    for axis, name in zip(axes, SIMILARITIES, strict=True):
        for method, rows in cascading[cascading["similarity"] == name].groupby("method"):
            axis.plot(rows["depth"], rows["mean"], marker="o", markersize=3, label=method)
        axis.set_xticks(range(len(stages)), stages, rotation=60, fontsize=6)
        axis.set(title=f"cascading randomisation: {name}", xlabel="randomised down to",
                 ylim=(-0.2, 1.05))
        axis.axhline(0, color="grey", linewidth=0.5)
    axes[0].set_ylabel("similarity to the trained model's map")
    axes[-1].legend(fontsize=6, loc="upper right")
    return figure


def main(smk) -> None:
    sanity = smk.params.sanity
    with Job(smk, seed=sanity["seed"]) as job:
        model, test = classifier_and_test_split(smk.input.weights, smk.input.manifest, job.device)
        permuted = load_classifier(smk.input.permuted, job.device).eval()
        x = test.images[:sanity["images"]].to(job.device)
        target = test.labels[:sanity["images"]].to(job.device)
        if target.dim() == 2:
            target = target.argmax(1)
        rows = []
        for method in sanity["methods"]:
            params = sanity["method_params"].get(method, {})
            reference = explain(model, x, target, method, **params)  # once for all three tests
            rows += randomisation_rows(model, x, target, method, params, sanity["seed"],
                                       reference)
            rows += label_rows(permuted, x, target, method, params, reference)
        table = pd.DataFrame(rows).round(5)
        job.save_table("sanity", table, smk.output.table)
        save_figure(draw(table), smk.output.pdf, smk.output.png)
        job.log_figure("cascading", smk.output.png)


if __name__ == "__main__":
    main(snakemake_object())
