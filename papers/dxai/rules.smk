"""DXAI: explaining classification by image decomposition, under results/dxai/

    snakemake --cores all dxai                        # every artifact below
    snakemake --cores all results/dxai/table1.csv     # one of them

A DXAI model (generator, mapping network, discriminator) is trained per
(dataset, classifier, variant, seed) against a frozen zoo classifier
(``dxai_train``). The main models decompose each dataset's test images, next to
the heatmap methods' decompositions (``dxai_decompose``); the tables, figures
and the claims table read those files.
"""

from common.paths import dataset_files, named_dataset_files
from papers.dxai import plan as dxai_plan

DXAI = config["dxai"]
DXAI_CATEGORY = "DXAI"
DXAI_MAIN = DXAI["classifier"]
DXAI_TARGETS = [
    "results/dxai/table1.csv",
    "results/dxai/table2.csv",
    "results/dxai/table3.csv",
    "results/dxai/table4.csv",
    "results/dxai/figure9.png",
    *expand("results/dxai/grid_{dataset}.png", dataset=DXAI["datasets"]),
    "results/dxai/ablation.csv",
    "results/dxai/naive.csv",
    "results/dxai/groundtruth.csv",
    "results/dxai/claims.csv",
]


wildcard_constraints:
    variant="|".join(dxai_plan.VARIANTS),


rule dxai_train:
    """Train one DXAI model against a frozen classifier (resumable)."""
    input:
        classifier=dxai_plan.classifier_file(DXAI, "{dataset}", "{arch}"),
        **dataset_files("{dataset}"),
    output:
        model=dxai_plan.model_file("{dataset}", "{arch}", "{variant}", "{seed}"),
        history="results/dxai/training/{dataset}_{arch}_{variant}_seed{seed}.csv",
    params:
        seed=lambda wildcards: int(wildcards.seed),
        settings=lambda wildcards: dxai_plan.training_params(DXAI, wildcards.variant),
        snapshots=lambda wildcards: dxai_plan.keeps_snapshots(
            DXAI, wildcards.dataset, wildcards.arch, wildcards.variant, wildcards.seed),
    log:
        "logs/dxai/train_{dataset}_{arch}_{variant}_seed{seed}.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=3000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/train.py"


rule dxai_decompose:
    """DXAI and the heatmap methods' decompositions of one dataset, and their beta curves."""
    input:
        model=dxai_plan.main_model(DXAI, "{dataset}"),
        classifier=dxai_plan.classifier_file(DXAI, "{dataset}", DXAI_MAIN),
        **dataset_files("{dataset}", splits=["test"]),
    output:
        decompositions="results/dxai/decompositions/{dataset}.pt",
        curves="results/dxai/beta_curves/{dataset}.csv",
    params:
        evaluation=DXAI["evaluation"],
        method_params=DXAI["method_params"],
        classifier=DXAI_MAIN,
    log:
        "logs/dxai/decompose_{dataset}.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=3000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/decompose.py"


rule dxai_table1:
    """Table 1: AUC of accuracy vs beta for DXAI and each heatmap method, per dataset."""
    input:
        curves=expand("results/dxai/beta_curves/{dataset}.csv", dataset=DXAI["datasets"]),
    output:
        table=traced_report("results/dxai/table1.csv", caption="report/table1.rst",
                     category=DXAI_CATEGORY),
    params:
        datasets=DXAI["datasets"],
    log:
        "logs/dxai/table1.log",
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/table1.py"


rule dxai_figure9:
    """Fig. 9: mean class probabilities along x - beta * x_distinct, per dataset."""
    input:
        curves=expand("results/dxai/beta_curves/{dataset}.csv", dataset=DXAI["datasets"]),
    output:
        pdf="results/dxai/figure9.pdf",
        png=traced_report("results/dxai/figure9.png", caption="report/figure9.rst",
                   category=DXAI_CATEGORY),
    params:
        datasets=DXAI["datasets"],
    log:
        "logs/dxai/figure9.log",
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/figure9.py"


rule dxai_grid:
    """Qualitative grid: input, distinct, agnostic and every heatmap method, one dataset."""
    input:
        decompositions="results/dxai/decompositions/{dataset}.pt",
    output:
        pdf="results/dxai/grid_{dataset}.pdf",
        png=traced_report("results/dxai/grid_{dataset}.png", caption="report/grid.rst",
                   category=DXAI_CATEGORY),
    log:
        "logs/dxai/grid_{dataset}.log",
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/grid.py"


rule dxai_table2:
    """Table 2: accuracy as the most important pixels are zeroed (|x_distinct| for DXAI)."""
    input:
        decompositions=f"results/dxai/decompositions/{DXAI['pixel_removal']['dataset']}.pt",
        classifier=dxai_plan.classifier_file(DXAI, DXAI["pixel_removal"]["dataset"], DXAI_MAIN),
    output:
        table=traced_report("results/dxai/table2.csv", caption="report/table2.rst",
                     category=DXAI_CATEGORY),
    params:
        pixel_removal=DXAI["pixel_removal"],
    log:
        "logs/dxai/table2.log",
    threads: config["torch_threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/table2.py"


rule dxai_table3:
    """Table 3: DXAI trained with each classifier, its beta-AUC measured with each."""
    input:
        **dxai_plan.cross_inputs(DXAI),
    output:
        table=traced_report("results/dxai/table3.csv", caption="report/table3.rst",
                     category=DXAI_CATEGORY),
    params:
        cross_classifier=DXAI["cross_classifier"],
        evaluation=DXAI["evaluation"],
    log:
        "logs/dxai/table3.log",
    threads: config["torch_threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/table3.py"


rule dxai_table4:
    """Table 4: spread of DXAI over training seeds during training, vs Grad-CAM and Internal
    Influence over three consecutive layers."""
    input:
        models=[dxai_plan.main_model(DXAI, DXAI["stability"]["dataset"], seed=seed)
                for seed in DXAI["stability"]["seeds"]],
        classifier=dxai_plan.classifier_file(DXAI, DXAI["stability"]["dataset"], DXAI_MAIN),
        **named_dataset_files(DXAI["stability"]["dataset"], "test"),
    output:
        table=traced_report("results/dxai/table4.csv", caption="report/table4.rst",
                     category=DXAI_CATEGORY),
    params:
        stability=DXAI["stability"],
        method_params=DXAI["method_params"],
    log:
        "logs/dxai/table4.log",
    threads: config["torch_threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/table4.py"


rule dxai_ablation:
    """Figs. 12 and 14: reconstruction PSNR (and classification loss) with B vs 2 branches and
    with vs without the Eq. 12 loss, over training and on the test images."""
    input:
        models=[dxai_plan.main_model(DXAI, DXAI["ablation"]["dataset"], variant)
                for variant in dxai_plan.VARIANTS],
        **named_dataset_files(DXAI["ablation"]["dataset"], "test"),
    output:
        table=traced_report("results/dxai/ablation.csv", caption="report/ablation.rst",
                     category=DXAI_CATEGORY),
        pdf="results/dxai/ablation.pdf",
        png=traced_report("results/dxai/ablation.png", caption="report/ablation.rst",
                   category=DXAI_CATEGORY),
    params:
        dataset=DXAI["ablation"]["dataset"],
        variants=list(dxai_plan.VARIANTS),
        images=dxai_plan.evaluation_images(DXAI["evaluation"], DXAI["ablation"]["dataset"]),
    log:
        "logs/dxai/ablation.log",
    threads: config["torch_threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/ablation.py"


rule dxai_naive:
    """App. 0.E: the naive optimisation baseline beside DXAI on the same images."""
    input:
        decompositions=f"results/dxai/decompositions/{DXAI['naive']['dataset']}.pt",
        classifier=dxai_plan.classifier_file(DXAI, DXAI["naive"]["dataset"], DXAI_MAIN),
    output:
        table=traced_report("results/dxai/naive.csv", caption="report/naive.rst",
                     category=DXAI_CATEGORY),
        pdf="results/dxai/naive.pdf",
        png=traced_report("results/dxai/naive.png", caption="report/naive.rst",
                   category=DXAI_CATEGORY),
    params:
        naive=DXAI["naive"],
        betas=DXAI["evaluation"]["betas"],
    log:
        "logs/dxai/naive.log",
    threads: config["torch_threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/naive.py"


rule dxai_groundtruth:
    """Beyond the paper: the share of |x_distinct| inside the evidence masks."""
    input:
        decompositions=expand("results/dxai/decompositions/{dataset}.pt",
                              dataset=DXAI["groundtruth"]["datasets"]),
    output:
        table=traced_report("results/dxai/groundtruth.csv", caption="report/groundtruth.rst",
                     category=DXAI_CATEGORY),
    params:
        datasets=DXAI["groundtruth"]["datasets"],
    log:
        "logs/dxai/groundtruth.log",
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/groundtruth.py"


rule dxai_claims:
    """Each claim of the paper with the value measured here and whether it holds."""
    input:
        table1="results/dxai/table1.csv",
        table2="results/dxai/table2.csv",
        table3="results/dxai/table3.csv",
        table4="results/dxai/table4.csv",
        ablation="results/dxai/ablation.csv",
        naive="results/dxai/naive.csv",
        groundtruth="results/dxai/groundtruth.csv",
        curves=expand("results/dxai/beta_curves/{dataset}.csv", dataset=DXAI["datasets"]),
        figure9="results/dxai/figure9.png",
        naive_figure="results/dxai/naive.png",
        ablation_figure="results/dxai/ablation.png",
        grids=expand("results/dxai/grid_{dataset}.png", dataset=DXAI["groundtruth"]["datasets"]),
    output:
        table=traced_report("results/dxai/claims.csv", caption="report/claims.rst",
                     category=DXAI_CATEGORY),
    params:
        datasets=DXAI["datasets"],
        grid_datasets=DXAI["groundtruth"]["datasets"],
        measured_on={"table2": DXAI["pixel_removal"]["dataset"],
                     "ablation": DXAI["ablation"]["dataset"],
                     "table4": DXAI["stability"]["dataset"], "naive": DXAI["naive"]["dataset"]},
    log:
        "logs/dxai/claims.log",
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/claims.py"


rule dxai:
    """Every artifact of this paper."""
    input:
        DXAI_TARGETS,
