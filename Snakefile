"""Reproductions of five works on explaining image classifiers.

    snakemake --cores all                                 # everything, embedded default
    snakemake --cores all --configfile config/paper.yaml  # paper scale
    snakemake --cores all dxai                            # one paper
    snakemake --report report.html                        # HTML report of the last run

The configuration is validated against workflow/schemas/config.schema.yaml and
each paper's own checks (papers/config_checks.py) before any job is planned;
`python -m papers.config_checks <file>` runs the same checks by hand.
"""

import sys

from snakemake.utils import min_version

min_version("9.0")

# The project's packages (common/, papers/) import from here, in this process and,
# because Snakemake passes its search path on, in every rule script.
sys.path.insert(0, workflow.basedir)

from common.config import ConfigError, load_config_file, path_errors  # noqa: E402
from papers.config_checks import validate  # noqa: E402

configfile: "config/config.yaml"

try:
    for path in workflow.configfiles:  # what Snakemake's loader lets pass: a key given twice
        load_config_file(path)
    validate(config)  # the shared sections and each paper's own
except ConfigError as error:
    raise WorkflowError(str(error)) from None


onstart:
    # Before the first job, not in a dry run: the data a run reads must be in place by then.
    if problems := path_errors(config):
        raise WorkflowError("the configuration names paths that are not there:\n  "
                            + "\n  ".join(problems))

report: "workflow/report/workflow.rst"

include: "workflow/rules/common.smk"
include: "workflow/rules/downloads.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/classifiers.smk"
include: "workflow/rules/explanations.smk"
include: "papers/dxai/rules.smk"
include: "papers/survey/rules.smk"
include: "papers/pv/rules.smk"
include: "papers/cartoonx/rules.smk"
include: "papers/course/rules.smk"
include: "workflow/rules/scorecard.smk"

localrules: all, explanations, dxai, survey, pv, cartoonx, course


rule all:
    """Every artifact of the shared pipeline and of the five papers."""
    default_target: True
    input:
        rules.shared.input,
        rules.explanations.input,
        rules.dxai.input,
        rules.survey.input,
        rules.pv.input,
        rules.cartoonx.input,
        rules.course.input,
        rules.scorecard.output,
