"""Perception Visualization, under results/pv/.

    snakemake --cores all pv                          # every artifact below
    snakemake --cores all results/pv/table1.csv       # one of them

A multi-label classifier (config ``pv.classifier``) is the encoder, frozen: its
normalised last features. One decoder per loss-weight triple (``pv.loss_weights``:
the paper's, without DSIM, MSE only) learns to invert it on the classifier's
training data, and one more, with the paper's weights, on another dataset (the
invariance experiment). PV = Grad-CAM-masked reconstruction (Eq. 2). The user
study's statistics come from the vendored per-participant scores; the survey kit
renders the study's two surveys for this classifier, and simulated respondents
(labelled as such everywhere) exercise the same analysis.
"""

from common.paths import classifier_file, dataset_files
from papers.pv import plan as pv_plan

PV = config["pv"]
PV_DATASET = PV["classifier"]["dataset"]
PV_CLASSIFIER = classifier_file(PV["classifier"])
PV_VARIANTS = list(PV["loss_weights"])
PV_TARGETS = [
    "results/pv/reconstruction.csv",
    "results/pv/examples.pdf",
    "results/pv/invariance.csv",
    "results/pv/table1.csv",
    "results/pv/figure6.pdf",
    "results/pv/survey/pv.html",
    "results/pv/simulated/table1.csv",
    "results/pv/claims.csv",
]


rule pv_train_decoder:
    """One decoder (Eq. 6) with loss weights pv.loss_weights.<variant> on the classifier's data."""
    input:
        weights=PV_CLASSIFIER,
        **dataset_files(PV_DATASET, splits=["train"]),
    output:
        decoder="results/pv/decoders/{variant}.pt",
    wildcard_constraints:
        variant="|".join(PV_VARIANTS),
    params:
        settings=lambda wildcards: pv_plan.decoder_params(config, wildcards.variant, PV_DATASET),
    log:
        "logs/pv/decoders/{variant}.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=4000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/train_decoder.py"


use rule pv_train_decoder as pv_train_invariance_decoder with:
    input:
        weights=PV_CLASSIFIER,
        **dataset_files(PV["invariance"]["dataset"], splits=["train"]),
    output:
        decoder="results/pv/invariance/decoder.pt",
    params:
        settings=pv_plan.decoder_params(config, "paper", PV["invariance"]["dataset"]),
    log:
        "logs/pv/invariance/decoder.log",


rule pv_reconstruction_table:
    """MSE, SSIM and DSIM of each decoder on held-out images, and their reconstructions."""
    input:
        weights=PV_CLASSIFIER,
        decoders=expand("results/pv/decoders/{variant}.pt", variant=PV_VARIANTS),
        **dataset_files(PV_DATASET, splits=["test"]),
    output:
        table=traced_report("results/pv/reconstruction.csv", caption="report/reconstruction.rst",
                     category="Perception Visualization"),
        pdf="results/pv/reconstructions.pdf",
        png=traced_report("results/pv/reconstructions.png", caption="report/reconstruction.rst",
                   category="Perception Visualization"),
    params:
        variants=PV_VARIANTS,
        loss_weights=PV["loss_weights"],
        images=PV["evaluation"]["images"],
    log:
        "logs/pv/reconstruction.log",
    threads: config["torch_threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/reconstruction_table.py"


rule pv_examples:
    """Figs. 2 and 4: input, Grad-CAM, reconstruction and PV for right and wrong predictions."""
    input:
        weights=PV_CLASSIFIER,
        decoder="results/pv/decoders/paper.pt",
        **dataset_files(PV_DATASET, splits=["test"]),
    output:
        pdf="results/pv/examples.pdf",
        png=traced_report("results/pv/examples.png", caption="report/examples.rst",
                   category="Perception Visualization"),
    params:
        images=PV["examples"]["images"],
    log:
        "logs/pv/examples.log",
    threads: config["torch_threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/examples.py"


rule pv_invariance:
    """Fig. 7: decoders trained on the classifier's data and on other data, compared."""
    input:
        weights=PV_CLASSIFIER,
        own="results/pv/decoders/paper.pt",
        other="results/pv/invariance/decoder.pt",
        **dataset_files(PV_DATASET, splits=["test"]),
    output:
        table=traced_report("results/pv/invariance.csv", caption="report/invariance.rst",
                     category="Perception Visualization"),
        pdf="results/pv/invariance.pdf",
        png=traced_report("results/pv/invariance.png", caption="report/invariance.rst",
                   category="Perception Visualization"),
    params:
        images=PV["evaluation"]["images"],
        decoders=pv_plan.invariance_data(config),
    log:
        "logs/pv/invariance.log",
    threads: config["torch_threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/invariance.py"


rule pv_user_study:
    """Table 1, the one-tailed Mann-Whitney tests and Fig. 6 from the real participants' scores."""
    input:
        scores=pv_plan.scores_files(PV["study"]["scores"]),   # each file of a folder, tracked
    output:
        table=traced_report("results/pv/table1.csv", caption="report/table1.rst",
                     category="Perception Visualization"),
        tests=traced_report("results/pv/tests.csv", caption="report/table1.rst",
                     category="Perception Visualization"),
        pdf="results/pv/figure6.pdf",
        png=traced_report("results/pv/figure6.png", caption="report/figure6.rst",
                   category="Perception Visualization"),
    params:
        source="real participants",
    log:
        "logs/pv/user_study.log",
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/user_study.py"


rule pv_survey_kit:
    """The study's questions for this classifier and the Grad-CAM and PV surveys (HTML)."""
    input:
        weights=PV_CLASSIFIER,
        decoder="results/pv/decoders/paper.pt",
        **dataset_files(PV_DATASET, splits=["test"]),
    output:
        questions="results/pv/survey/questions.json",
        gradcam=traced_report("results/pv/survey/gradcam.html", caption="report/survey_kit.rst",
                       category="Perception Visualization"),
        pv=traced_report("results/pv/survey/pv.html", caption="report/survey_kit.rst",
                  category="Perception Visualization"),
    params:
        survey_kit=PV["survey_kit"],
    log:
        "logs/pv/survey_kit.log",
    threads: config["torch_threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/survey_kit.py"


rule pv_simulate_respondents:
    """SIMULATED answers to the kit's questions, in the scores format (not data)."""
    input:
        questions="results/pv/survey/questions.json",
    output:
        scores="results/pv/simulated/scores.csv",
    params:
        simulated=PV["simulated_respondents"],
        seed=PV["survey_kit"]["seed"],
    log:
        "logs/pv/simulated/respondents.log",
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/simulate_respondents.py"


use rule pv_user_study as pv_simulated_study with:
    input:
        scores="results/pv/simulated/scores.csv",
    output:
        table=traced_report("results/pv/simulated/table1.csv", caption="report/simulated.rst",
                     category="Perception Visualization"),
        tests="results/pv/simulated/tests.csv",
        pdf="results/pv/simulated/figure6.pdf",
        png="results/pv/simulated/figure6.png",
    params:
        source="SIMULATED respondents",
    log:
        "logs/pv/simulated/study.log",


rule pv_claims:
    """Each claim of the paper with the value measured here and whether it holds."""
    input:
        table1="results/pv/table1.csv",
        tests="results/pv/tests.csv",
        invariance="results/pv/invariance.csv",
        figure6="results/pv/figure6.png",
        invariance_figure="results/pv/invariance.png",
    output:
        table=traced_report("results/pv/claims.csv", caption="report/claims.rst",
                     category="Perception Visualization"),
    params:
        alpha=PV["study"]["alpha"],
        classifier_dataset=PV["classifier"]["dataset"],
        decoder_datasets=[PV["classifier"]["dataset"], PV["invariance"]["dataset"]],
    log:
        "logs/pv/claims.log",
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/claims.py"


rule pv:
    """Every artifact of this paper."""
    input:
        PV_TARGETS,
