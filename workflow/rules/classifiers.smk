"""Classifier zoo: training, the accuracy table and a prediction figure per model."""

from common.config import classifier_runs, dataset_files, training_settings
from common.data import buildable
from common.download import download_inputs
from common.models.pretrained import IMAGENET_MODELS


rule train_classifier:
    """Train one architecture on one dataset with one seed (resumable)."""
    input:
        **dataset_files("{dataset}"),
        init_weights=lambda wildcards: download_inputs(config, training_settings(
            config, wildcards.dataset, wildcards.arch).get("init_weights")),
    output:
        weights="results/models/{dataset}/{arch}/seed{seed}.pt",
        metrics="results/models/{dataset}/{arch}/seed{seed}.json",
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
        metrics=[
            "results/models/{dataset}/{arch}/seed{seed}.json".format(**run)
            for run in classifier_runs(config)
        ],
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
        weights="results/models/{dataset}/{arch}/seed{seed}.pt",
        manifest="resources/data/{dataset}/manifest.json",
        test="resources/data/{dataset}/test.npz",
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
        [f"resources/data/{name}/preview.png" for name in buildable(config)],
        rules.accuracy_table.output,
        [
            "results/models/figures/predictions_{dataset}_{arch}_seed{seed}.pdf".format(**run)
            for run in classifier_runs(config)
        ],
        [
            f"results/models/photos/{model}/top5.csv"
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
