"""Every attribution method and metric exercised on one trained classifier.

The classifier is the configured ``attribution_evaluation`` pair; the wildcards
let any trained (dataset, arch, seed) be evaluated the same way by name.
"""

from common.config import training_settings
from common.paths import (
    CLASSIFIER,
    PERMUTED_CLASSIFIER,
    PERMUTED_CLASSIFIER_METRICS,
    dataset_files,
)

EVALUATION = config["attribution_evaluation"]
EVALUATED = "results/explain/{dataset}_{arch}_seed{seed}".format(**EVALUATION)


use rule train_classifier as train_permuted_classifier with:
    output:
        weights=PERMUTED_CLASSIFIER,
        metrics=PERMUTED_CLASSIFIER_METRICS,
    params:
        training=lambda wildcards: training_settings(config, wildcards.dataset,
                                                    wildcards.arch),
        permute_labels=True,
    log:
        "logs/models/{dataset}/{arch}/permuted_seed{seed}.log",


rule evaluate_attributions:
    """Every method's maps scored by every metric: per image, summarised, and drawn."""
    input:
        weights=CLASSIFIER,
        **dataset_files("{dataset}", splits=["test"]),
    output:
        scores="results/explain/{dataset}_{arch}_seed{seed}/scores.csv",
        summary=traced_report(
            "results/explain/{dataset}_{arch}_seed{seed}/summary.csv",
            caption="../report/attribution_summary.rst",
            category="Attribution methods",
        ),
        pdf="results/explain/{dataset}_{arch}_seed{seed}/maps.pdf",
        png=traced_report(
            "results/explain/{dataset}_{arch}_seed{seed}/maps.png",
            caption="../report/attribution_maps.rst",
            category="Attribution methods",
        ),
    params:
        evaluation={key: EVALUATION[key]
                    for key in ("seed", "images", "methods", "method_params", "metrics")},
    log:
        "logs/explain/{dataset}_{arch}_seed{seed}/evaluate.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=4000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        # From the repository root down, so that the survey's "use rule" (also two folders
        # deep, papers/survey/) resolves the same script: Snakemake resolves a reused
        # rule's script relative to the file that reuses it.
        "../../workflow/scripts/evaluate_attributions.py"


rule sanity_checks:
    """Model-parameter and data randomisation tests (Adebayo et al.) for the chosen methods."""
    input:
        weights=CLASSIFIER,
        permuted=PERMUTED_CLASSIFIER,
        **dataset_files("{dataset}", splits=["test"]),
    output:
        table=traced_report(
            "results/explain/{dataset}_{arch}_seed{seed}/sanity.csv",
            caption="../report/sanity_checks.rst",
            category="Attribution methods",
        ),
        pdf="results/explain/{dataset}_{arch}_seed{seed}/sanity.pdf",
        png=traced_report(
            "results/explain/{dataset}_{arch}_seed{seed}/sanity.png",
            caption="../report/sanity_checks.rst",
            category="Attribution methods",
        ),
    params:
        sanity={"seed": EVALUATION["seed"], "method_params": EVALUATION["method_params"],
                **EVALUATION["sanity"]},
    log:
        "logs/explain/{dataset}_{arch}_seed{seed}/sanity.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=4000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "../../workflow/scripts/sanity_checks.py"  # see evaluate_attributions


rule explanations:
    """The attribution tables, maps and sanity checks of the configured classifier."""
    input:
        [f"{EVALUATED}/{name}" for name in ("summary.csv", "maps.pdf", "sanity.csv", "sanity.pdf")],
