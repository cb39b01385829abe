"""CartoonX: wavelet rate-distortion explanations (Kolek et al., 2022), under results/cartoonx/.

    snakemake --cores all cartoonx                          # every artifact below
    snakemake --cores all results/cartoonx/figure5.pdf      # one of them

An evaluation (config ``cartoonx.evaluations``) is a classifier and the images it
explains; its explanations are computed once (``cartoonx_explain``) and read by
the Fig. 5 and Fig. 7a/b rules. Fig. 7c and Fig. 8 optimise their own masks.
"""

from papers.cartoonx import plan

CARTOONX = config["cartoonx"]
CARTOONX_EVALUATIONS = CARTOONX["evaluations"]
CARTOONX_SWEEP = CARTOONX["lambda_sweep"]["evaluation"]


wildcard_constraints:
    evaluation="|".join(CARTOONX_EVALUATIONS),


rule cartoonx_explain:
    """CartoonX, Pixel RDE and the heatmap methods on one evaluation's images."""
    input:
        unpack(lambda wildcards: plan.evaluation_files(config, wildcards.evaluation)),
    output:
        explanations="results/cartoonx/explanations/{evaluation}.pt",
    params:
        evaluation=lambda wildcards: CARTOONX_EVALUATIONS[wildcards.evaluation],
        weights=lambda wildcards, input: input.get("weights"),
        settings=plan.settings(config, "rde", "sparsity", "method_params"),
    log:
        "logs/cartoonx/explain_{evaluation}.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=6000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/explain.py"


rule cartoonx_figure5:
    """Fig. 5 analogue: CartoonX beside Pixel RDE and the heatmaps on misclassified photos."""
    input:
        explanations=f"results/cartoonx/explanations/{CARTOONX['figure5']}.pt",
    output:
        pdf="results/cartoonx/figure5.pdf",
        png=traced_report("results/cartoonx/figure5.png", caption="report/figure5.rst",
                   category="CartoonX"),
    log:
        "logs/cartoonx/figure5.log",
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/figure5.py"


rule cartoonx_rate_distortion:
    """Fig. 7a/b: distortion when keeping or randomising the most relevant components."""
    input:
        unpack(lambda wildcards: plan.evaluation_files(config, wildcards.evaluation)),
        explanations="results/cartoonx/explanations/{evaluation}.pt",
    output:
        curves=traced_report("results/cartoonx/rate_distortion_{evaluation}.csv",
                      caption="report/rate_distortion.rst", category="CartoonX"),
        pdf="results/cartoonx/figure7ab_{evaluation}.pdf",
        png=traced_report("results/cartoonx/figure7ab_{evaluation}.png",
                   caption="report/rate_distortion.rst", category="CartoonX"),
    params:
        evaluation=lambda wildcards: CARTOONX_EVALUATIONS[wildcards.evaluation],
        weights=lambda wildcards, input: input.get("weights"),
        settings=plan.settings(config, "rde", "rate_distortion"),
    log:
        "logs/cartoonx/rate_distortion_{evaluation}.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=4000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/rate_distortion_curves.py"


rule cartoonx_lambda_sweep:
    """Fig. 7c: distortion and sparsity of CartoonX and Pixel RDE over lambda k."""
    input:
        unpack(lambda wildcards: plan.evaluation_files(config, wildcards.evaluation)),
    output:
        scores="results/cartoonx/lambda_sweep_{evaluation}.csv",
        stability="results/cartoonx/lambda_stability_{evaluation}.csv",
        pdf="results/cartoonx/figure7c_{evaluation}.pdf",
        png=traced_report("results/cartoonx/figure7c_{evaluation}.png",
                   caption="report/lambda_sweep.rst", category="CartoonX"),
    params:
        evaluation=lambda wildcards: CARTOONX_EVALUATIONS[wildcards.evaluation],
        weights=lambda wildcards, input: input.get("weights"),
        settings=plan.settings(config, "rde", "lambda_sweep", "chance_draws"),
    log:
        "logs/cartoonx/lambda_sweep_{evaluation}.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=4000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/lambda_sweep.py"


rule cartoonx_sensitivity:
    """Fig. 8: CartoonX under other lambdas (vs Pixel RDE), noises, wavelets and distortions."""
    input:
        **plan.evaluation_files(config, CARTOONX["figure5"]),
    output:
        scores="results/cartoonx/sensitivity.csv",
        agreement="results/cartoonx/sensitivity_agreement.csv",
        curves="results/cartoonx/sensitivity_rate_distortion.csv",
        pdf="results/cartoonx/figure8.pdf",
        png=traced_report("results/cartoonx/figure8.png", caption="report/sensitivity.rst",
                   category="CartoonX"),
    params:
        evaluation={**CARTOONX_EVALUATIONS[CARTOONX["figure5"]],
                    "image_size": CARTOONX["sensitivity"]["image_size"]},
        weights=lambda wildcards, input: input.get("weights"),
        settings=plan.settings(config, "rde", "sparsity", "sensitivity", "rate_distortion",
                               "chance_draws"),
    log:
        "logs/cartoonx/sensitivity.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=4000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/sensitivity.py"


rule cartoonx_runtime:
    """Seconds per explanation of CartoonX, Pixel RDE and IG at the paper's timing setting."""
    input:
        **plan.runtime_files(config),
    output:
        table=traced_report("results/cartoonx/runtime.csv", caption="report/runtime.rst",
                     category="CartoonX"),
    params:
        runtime={**CARTOONX["runtime"],
                 "rde": {key: CARTOONX["rde"][key]
                         for key in ("perturbation", "distortion", "wavelet", "levels", "mode")}},
        weights=lambda wildcards, input: input.get("weights"),
    log:
        "logs/cartoonx/runtime.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=6000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/runtime.py"


rule cartoonx_claims:
    """Each quantitative claim of the paper with the value measured here and whether it holds."""
    input:
        curves=expand("results/cartoonx/rate_distortion_{evaluation}.csv",
                      evaluation=CARTOONX_EVALUATIONS),
        sweep=f"results/cartoonx/lambda_sweep_{CARTOONX_SWEEP}.csv",
        stability=f"results/cartoonx/lambda_stability_{CARTOONX_SWEEP}.csv",
        runtime="results/cartoonx/runtime.csv",
        agreement="results/cartoonx/sensitivity_agreement.csv",
        perturbation_curves="results/cartoonx/sensitivity_rate_distortion.csv",
        figure7ab=expand("results/cartoonx/figure7ab_{evaluation}.png",
                         evaluation=CARTOONX_EVALUATIONS),
        figure7c=f"results/cartoonx/figure7c_{CARTOONX_SWEEP}.png",
        figure8="results/cartoonx/figure8.png",
    output:
        table=traced_report("results/cartoonx/claims.csv", caption="report/claims.rst",
                     category="CartoonX"),
    params:
        curve_evaluations=list(CARTOONX_EVALUATIONS),
        sweep_evaluation=CARTOONX_SWEEP,
        low_rate=CARTOONX["rate_distortion"]["low_rate"],
        datasets=plan.claim_datasets(CARTOONX),
    log:
        "logs/cartoonx/claims.log",
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/claims.py"


rule cartoonx:
    """Every artifact of this paper."""
    input:
        "results/cartoonx/figure5.pdf",
        expand("results/cartoonx/figure7ab_{evaluation}.pdf", evaluation=CARTOONX_EVALUATIONS),
        f"results/cartoonx/figure7c_{CARTOONX_SWEEP}.pdf",
        "results/cartoonx/figure8.pdf",
        "results/cartoonx/runtime.csv",
        "results/cartoonx/claims.csv",
