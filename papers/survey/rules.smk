"""White-box explanation methods for CNNs, a survey (issue 8).

Outputs live under results/survey/. Every figure and table of this paper is added
to SURVEY_TARGETS by the rule that builds it; the list is empty until the
paper's issue lands, so `snakemake survey` builds nothing rather than a stand-in.
"""

SURVEY_TARGETS = []


rule survey:
    """Every artifact of this paper."""
    input:
        SURVEY_TARGETS,
