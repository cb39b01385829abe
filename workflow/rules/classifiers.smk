"""Classifier zoo: training, the accuracy table and a prediction figure per model."""

from common.config import classifier_runs, training_settings
from common.data import buildable
from common.download import download_inputs
from common.models import IMAGENET_MODELS
from common.paths import (
    CLASSIFIER,
    CLASSIFIER_METRICS,
    dataset_files,
    dataset_preview,
)


rule train_classifier:
    """Train one architecture on one dataset with one seed (resumable)."""
    input:
        **dataset_files("{dataset}"),
        init_weights=lambda wildcards: download_inputs(config, training_settings(
            config, wildcards.dataset, wildcards.arch).get("init_weights")),
    output:
        weights=CLASSIFIER,
        metrics=CLASSIFIER_METRICS,
    params:
        training=lambda wildcards: training_settings(config, wildcards.dataset,
                                                    wildcards.arch),
    log:
        "logs/models/{dataset}/{arch}/seed{seed}.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=4000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "../scripts/train_classifier.py"


rule accuracy_table:
    """Test accuracy of every trained classifier (the DXAI appendix's Table 6 analogue)."""
    input:
        metrics=[CLASSIFIER_METRICS.format(**run) for run in classifier_runs(config)],
    output:
        table=traced_report(
            "results/models/accuracy.csv",
            caption="../report/accuracy_table.rst",
            category="Classifiers",
        ),
    params:
        runs=classifier_runs(config),
    log:
        "logs/models/accuracy_table.log",
    conda:
        "../../envs/xai.yaml"
    script:
        "../scripts/accuracy_table.py"


rule prediction_figure:
    """Confusion matrix and example predictions of one trained classifier."""
    input:
        weights=CLASSIFIER,
        **dataset_files("{dataset}", splits=["test"]),
    output:
        pdf="results/models/figures/predictions_{dataset}_{arch}_seed{seed}.pdf",
        png=traced_report(
            "results/models/figures/predictions_{dataset}_{arch}_seed{seed}.png",
            caption="../report/prediction_figure.rst",
            category="Classifiers",
            subcategory="{dataset}",
        ),
    log:
        "logs/models/figures/predictions_{dataset}_{arch}_seed{seed}.log",
    threads: config["torch_threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "../scripts/prediction_figure.py"


rule shared:
    """Every shared artifact: datasets with previews, classifiers, their table and figures."""
    input:
        [dataset_preview(name) for name in buildable(config)],
        rules.accuracy_table.output,
        [rules.prediction_figure.output.pdf.format(**run) for run in classifier_runs(config)],
        [
            "results/models/photos/{model}/top5.csv".format(model=model)
            for model, weights in config["pretrained"].items()
            if model == "efficientnet_lite0" or weights is not None
        ],


rule imagenet_predictions:
    """Top-5 classes of a pretrained ImageNet classifier on the shipped photographs."""
    input:
        **dataset_files("photos", splits=["test"]),
        weights=lambda wildcards: download_inputs(config, config["pretrained"][wildcards.model]),
    output:
        table=traced_report(
            "results/models/photos/{model}/top5.csv",
            caption="../report/imagenet_predictions.rst",
            category="Classifiers",
            subcategory="photos",
        ),
    params:
        weights=lambda wildcards: config["pretrained"][wildcards.model],
    log:
        "logs/models/photos/{model}_top5.log",
    wildcard_constraints:
        model="|".join(IMAGENET_MODELS),
    conda:
        "../../envs/xai.yaml"
    script:
        "../scripts/imagenet_predictions.py"
