"""The scorecard: every work's claims table gathered into one table and one page.

    snakemake --cores all scorecard      # results/scorecard.csv and results/scorecard.html

Each paper's claims rule writes its table in the common schema (common/claims.py);
``scorecard`` only concatenates, validates and links them (common/scorecard.py).
In the HTML report it is the first category.
"""

SCORECARD_CLAIMS = [f"results/{work}/claims.csv"
                    for work in ("dxai", "survey", "pv", "cartoonx", "course")]
SCORECARD_CATEGORY = "0. Scorecard"  # the report orders categories by name: this one first


rule scorecard:
    """Every claim of the five works, the paper's value and ours, and whether it holds."""
    input:
        claims=SCORECARD_CLAIMS,
    output:
        table=traced_report("results/scorecard.csv", caption="../report/scorecard.rst",
                            category=SCORECARD_CATEGORY),
        page=traced_report("results/scorecard.html", caption="../report/scorecard_page.rst",
                           category=SCORECARD_CATEGORY),
    log:
        "logs/scorecard.log",
    conda:
        "../../envs/xai.yaml"
    script:
        "../scripts/scorecard.py"
