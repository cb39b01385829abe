"""Datasets under resources/data/: generated with ground truth, or shipped real images."""

from common.config import dataset_files
from common.download import download_inputs


rule make_dataset:
    """Build a labelled dataset's splits, manifest (sha256 of each file) and preview."""
    input:
        # the unpacked archive when datasets.<dataset>.root lies under resources/sources/
        sources=lambda wildcards: download_inputs(config,
                                                  config["datasets"][wildcards.dataset].get("root")),
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


rule collect_photos:
    """The shipped colour photographs for the ImageNet classifier (one unlabelled split)."""
    input:
        sources=download_inputs(config, config["datasets"]["photos"].get("root")),
    output:
        **dataset_files("photos", splits=["test"]),
        preview=report(
            "resources/data/photos/preview.png",
            caption="../report/photos_preview.rst",
            category="Datasets",
            subcategory="photos",
        ),
    params:
        settings=config["datasets"]["photos"],
    log:
        "logs/datasets/photos.log",
    conda:
        "../../envs/xai.yaml"
    script:
        "../scripts/make_dataset.py"
