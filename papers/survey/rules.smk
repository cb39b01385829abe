"""White-box explanation methods for CNNs, a survey, under results/survey/.

    snakemake --cores all survey                          # every artifact below
    snakemake --cores all results/survey/table1.csv       # one of them

One classifier (config ``survey.classifier``) is explained by the survey's
white-box methods. Table 1 and Fig. 11 compare the maps with fixation density
maps, and the photo agreement matrix compares them with each other on real
photos; the timing table times each method over repeated calls. The
perturbation (AOPC) table and the sanity checks reuse the
shared rules of workflow/rules/explanations.smk with the survey's methods, so
the survey's numbers come from the same code as the shared evaluation.
"""

from common.download import download_inputs
from common.paths import classifier_file, dataset_files, permuted_classifier_file
from papers.survey import plan

SURVEY = config["survey"]
SURVEY_CLASSIFIER = classifier_file(SURVEY["classifier"])
SURVEY_PERMUTED = permuted_classifier_file(SURVEY["classifier"])


rule survey_table1:
    """Table 1 (SIM and PCC against fixation density maps) and Fig. 11 (the maps)."""
    input:
        **plan.table1_inputs(config),
    output:
        scores="results/survey/table1_scores.csv",
        table=traced_report("results/survey/table1.csv", caption="report/table1.rst",
                     category="Survey"),
        pdf="results/survey/figure11.pdf",
        png=traced_report("results/survey/figure11.png", caption="report/figure11.rst",
                   category="Survey"),
    params:
        settings=plan.method_settings(config, "human_likeness"),
    log:
        "logs/survey/table1.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=4000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/table1.py"


use rule evaluate_attributions as survey_perturbation with:
    input:
        weights=SURVEY_CLASSIFIER,
        **dataset_files(SURVEY["classifier"]["dataset"], splits=["test"]),
    output:
        scores="results/survey/perturbation_scores.csv",
        summary=traced_report("results/survey/perturbation.csv", caption="report/perturbation.rst",
                       category="Survey"),
        pdf="results/survey/perturbation_maps.pdf",
        png="results/survey/perturbation_maps.png",
    params:
        evaluation=plan.method_settings(config, "perturbation"),
    log:
        "logs/survey/perturbation.log",


use rule sanity_checks as survey_sanity_checks with:
    input:
        weights=SURVEY_CLASSIFIER,
        permuted=SURVEY_PERMUTED,
        **dataset_files(SURVEY["classifier"]["dataset"], splits=["test"]),
    output:
        table=traced_report("results/survey/sanity.csv", caption="report/sanity.rst",
                     category="Survey"),
        pdf="results/survey/sanity.pdf",
        png=traced_report("results/survey/sanity.png", caption="report/sanity.rst",
                   category="Survey"),
    params:
        sanity=plan.method_settings(config, "sanity"),
    log:
        "logs/survey/sanity.log",


rule survey_figure6:
    """Fig. 6: one ReLU passed backwards by gradient, DeconvNet and guided backprop."""
    output:
        pdf="results/survey/figure6.pdf",
        png=traced_report("results/survey/figure6.png", caption="report/figure6.rst",
                   category="Survey"),
    log:
        "logs/survey/figure6.log",
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/figure6.py"


rule survey_photo_figure:
    """Fig. 7 (gradient, DeconvNet, guided backprop) or Fig. 8 (the IG path) on real photos."""
    input:
        **dataset_files("photos", splits=["test"]),
        weights=download_inputs(config, config["pretrained"][SURVEY["photos"]["model"]]),
    output:
        pdf="results/survey/figure{number}.pdf",
        png=traced_report("results/survey/figure{number}.png",
                   caption="report/photo_figure.rst", category="Survey"),
    wildcard_constraints:
        number="7|8",
    params:
        photos=SURVEY["photos"] | {"weights": config["pretrained"][SURVEY["photos"]["model"]]},
    log:
        "logs/survey/figure{number}.log",
    threads: config["torch_threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/figure{wildcards.number}.py"


rule survey_figure10:
    """Fig. 10: LRP-epsilon with and without bias, LRP-alpha1-beta0 and FEM."""
    input:
        weights=SURVEY_CLASSIFIER,
        **dataset_files(SURVEY["classifier"]["dataset"], splits=["test"]),
    output:
        pdf="results/survey/figure10.pdf",
        png=traced_report("results/survey/figure10.png", caption="report/figure10.rst",
                   category="Survey"),
    params:
        settings=SURVEY["figure10"],
    log:
        "logs/survey/figure10.log",
    threads: config["torch_threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/figure10.py"


rule survey_photo_agreement:
    """The maps of real photos compared with each other: PCC of every pair of methods."""
    input:
        **dataset_files("photos", splits=["test"]),
        weights=download_inputs(config, config["pretrained"][SURVEY["photos"]["model"]]),
    output:
        scores="results/survey/photo_agreement_scores.csv",
        table=traced_report("results/survey/photo_agreement.csv",
                     caption="report/photo_agreement.rst", category="Survey"),
        pdf="results/survey/photo_agreement.pdf",
        png=traced_report("results/survey/photo_agreement.png",
                   caption="report/photo_agreement.rst", category="Survey"),
    params:
        settings=plan.photo_agreement_settings(config),
    log:
        "logs/survey/photo_agreement.log",
    threads: config["torch_threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/photo_agreement.py"


rule survey_timing:
    """Milliseconds per image of every method, over repeated timed calls."""
    input:
        weights=SURVEY_CLASSIFIER,
        **dataset_files(SURVEY["classifier"]["dataset"], splits=["test"]),
    output:
        table=traced_report("results/survey/timing.csv", caption="report/timing.rst",
                     category="Survey"),
    params:
        settings=plan.method_settings(config, "timing"),
    log:
        "logs/survey/timing.log",
    threads: config["torch_threads"]
    resources:
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/timing.py"


rule survey_claims:
    """Each comparative claim of the survey with the value measured here and whether it holds."""
    input:
        table1="results/survey/table1.csv",
        perturbation="results/survey/perturbation.csv",
        sanity="results/survey/sanity.csv",
        timing="results/survey/timing.csv",
        figure11="results/survey/figure11.png",
        perturbation_figure="results/survey/perturbation_maps.png",
        sanity_figure="results/survey/sanity.png",
    output:
        table=traced_report("results/survey/claims.csv", caption="report/claims.rst",
                     category="Survey"),
    params:
        sanity_pass_below=SURVEY["sanity_pass_below"],
        classifier_dataset=SURVEY["classifier"]["dataset"],
        table1_dataset=(SURVEY["human_likeness"]["gaze"] or SURVEY["classifier"])["dataset"],
    log:
        "logs/survey/claims.log",
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/claims.py"


rule survey:
    """Every artifact of this paper."""
    input:
        expand("results/survey/figure{number}.pdf", number=[6, 7, 8, 10]),
        "results/survey/table1.csv",
        "results/survey/figure11.pdf",
        "results/survey/perturbation.csv",
        "results/survey/sanity.csv",
        "results/survey/photo_agreement.csv",
        "results/survey/timing.csv",
        "results/survey/claims.csv",
