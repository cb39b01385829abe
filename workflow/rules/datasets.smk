"""Datasets: procedural generation with ground-truth masks under resources/data/."""

from common.config import dataset_files


rule make_dataset:
    """Generate a dataset's splits, manifest (sha256 of each file) and preview figure."""
    output:
        **dataset_files("{dataset}"),
        preview=report(
            "resources/data/{dataset}/preview.png",
            caption="../report/dataset_preview.rst",
            category="Datasets",
            subcategory="{dataset}",
        ),
    params:
        settings=lambda wildcards: config["datasets"][wildcards.dataset],
    log:
        "logs/datasets/{dataset}.log",
    resources:
        mem_mb=2000,
    conda:
        "../../envs/xai.yaml"
    script:
        "../scripts/make_dataset.py"
