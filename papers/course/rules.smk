"""XAI course: each slide topic as computed figures and tables under results/course/.

    snakemake --cores all course                                   # everything below
    snakemake --cores all results/course/vit_localisation.csv      # one of them

Classical saliency runs on the real photos and is scored against the scenes masks;
LRP on the digits (linear model) and on the course CNN's real photos (config
``course.lrp.classifier``); the CAM family on a GAP network and the ViT methods on
the zoo's ViT, both trained on scenes; the limits of saliency on a detector built
to fail gradients, and the randomised-network sanity check on the CAM network.
"""

from common.paths import classifier_file, dataset_files, named_dataset_files

COURSE = config["course"]
COURSE_CATEGORY = "XAI course"
COURSE_TARGETS = [
    "results/course/classical_localisation.csv",
    "results/course/lrp_linear.csv",
    "results/course/cam_localisation.csv",
    "results/course/vit_localisation.csv",
    "results/course/limits.csv",
    "results/course/claims.csv",
]


rule course_classical:
    """Centre-surround, Itti-Koch, spectral residual, region contrast, MST, local entropy."""
    input:
        **named_dataset_files("scenes", "test"),
        **named_dataset_files("photos", "test"),
    output:
        table=traced_report("results/course/classical_localisation.csv",
                     caption="report/classical.rst", category=COURSE_CATEGORY),
        pdf="results/course/classical_photos.pdf",
        png=traced_report("results/course/classical_photos.png", caption="report/classical.rst",
                   category=COURSE_CATEGORY),
    params:
        localisation=COURSE["localisation"],
        photos=COURSE["classical"]["photos"],
    log:
        "logs/course/classical.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=3000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/classical.py"


rule course_lrp:
    """The linear counterexample, conservation by layer, LRP-0 vs gradient x input, rules."""
    input:
        weights=classifier_file(COURSE["lrp"]["classifier"]),
        **named_dataset_files("digits", "train", "test"),
        lrp_data=dataset_files(COURSE["lrp"]["classifier"]["dataset"], ["test"])["manifest"],
        lrp_data_test=dataset_files(COURSE["lrp"]["classifier"]["dataset"], ["test"])["test"],
    output:
        linear=traced_report("results/course/lrp_linear.csv", caption="report/lrp.rst",
                      category=COURSE_CATEGORY),
        conservation="results/course/lrp_conservation.csv",
        rules="results/course/lrp_rules.csv",
        pdf="results/course/lrp_rules.pdf",
        png=traced_report("results/course/lrp_rules.png", caption="report/lrp.rst",
                   category=COURSE_CATEGORY),
    params:
        lrp=COURSE["lrp"],
    log:
        "logs/course/lrp.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=3000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/lrp.py"


rule course_cam:
    """CAM, Grad-CAM, Grad-CAM++ and EigenGrad-CAM, and their pointing game."""
    input:
        weights=classifier_file(COURSE["cam"]["classifier"]),
        **named_dataset_files("scenes", "test"),
    output:
        table=traced_report("results/course/cam_localisation.csv", caption="report/cam.rst",
                     category=COURSE_CATEGORY),
        pdf="results/course/cam.pdf",
        png=traced_report("results/course/cam.png", caption="report/cam.rst",
                   category=COURSE_CATEGORY),
    params:
        localisation=COURSE["localisation"],
    log:
        "logs/course/cam.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=3000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/cam.py"


rule course_vit:
    """TextSpan decomposition and its check, CHILI head weights, LeGrad, localisation."""
    input:
        weights=classifier_file(COURSE["vit"]["classifier"]),
        **named_dataset_files("scenes", "train", "test"),
    output:
        decomposition=traced_report("results/course/vit_decomposition.csv",
                             caption="report/vit.rst", category=COURSE_CATEGORY),
        heads_pdf="results/course/vit_heads.pdf",
        heads_png=traced_report("results/course/vit_heads.png", caption="report/vit.rst",
                         category=COURSE_CATEGORY),
        table=traced_report("results/course/vit_localisation.csv", caption="report/vit.rst",
                     category=COURSE_CATEGORY),
        maps_pdf="results/course/vit_maps.pdf",
        maps_png=traced_report("results/course/vit_maps.png", caption="report/vit.rst",
                        category=COURSE_CATEGORY),
    params:
        localisation=COURSE["localisation"],
        vit=COURSE["vit"],
    log:
        "logs/course/vit.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=3000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/vit.py"


rule course_limits:
    """Saturation and spurious sensitivity on a built detector; the randomisation check."""
    input:
        weights=classifier_file(COURSE["cam"]["classifier"]),
        **named_dataset_files("scenes", "test"),
    output:
        limits=traced_report("results/course/limits.csv", caption="report/limits.rst",
                      category=COURSE_CATEGORY),
        limits_pdf="results/course/limits.pdf",
        limits_png=traced_report("results/course/limits.png", caption="report/limits.rst",
                          category=COURSE_CATEGORY),
        sanity=traced_report("results/course/sanity.csv", caption="report/limits.rst",
                      category=COURSE_CATEGORY),
        sanity_pdf="results/course/sanity.pdf",
        sanity_png=traced_report("results/course/sanity.png", caption="report/limits.rst",
                          category=COURSE_CATEGORY),
    params:
        localisation=COURSE["localisation"],
        sanity=COURSE["sanity"],
    log:
        "logs/course/limits.log",
    threads: config["torch_threads"]
    resources:
        mem_mb=3000,
        gpu=GPU,
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/limits.py"


rule course_claims:
    """Each statement of the slides our outputs check, the value measured and whether it holds."""
    input:
        linear="results/course/lrp_linear.csv",
        conservation="results/course/lrp_conservation.csv",
        rules="results/course/lrp_rules.csv",
        lrp_figure="results/course/lrp_rules.png",
        cam="results/course/cam_localisation.csv",
        cam_figure="results/course/cam.png",
        vit_decomposition="results/course/vit_decomposition.csv",
        vit_heads_figure="results/course/vit_heads.png",
        vit_localisation="results/course/vit_localisation.csv",
        vit_maps_figure="results/course/vit_maps.png",
        limits="results/course/limits.csv",
        limits_figure="results/course/limits.png",
        sanity="results/course/sanity.csv",
        sanity_figure="results/course/sanity.png",
    output:
        table=traced_report("results/course/claims.csv", caption="report/claims.rst",
                     category=COURSE_CATEGORY),
    params:
        lrp_dataset=COURSE["lrp"]["classifier"]["dataset"],
        localisation_dataset="scenes",  # the maps are scored on the scenes test images
    log:
        "logs/course/claims.log",
    conda:
        "../../envs/xai.yaml"
    script:
        "scripts/claims.py"


rule course:
    """Every artifact of this paper."""
    input:
        COURSE_TARGETS,
