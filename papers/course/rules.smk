"""XAI course: classical saliency, LRP, CAM family, ViT decompositions (issue 9).

Outputs live under results/course/. Every figure and table of this paper is added
to COURSE_TARGETS by the rule that builds it; the list is empty until the
paper's issue lands, so `snakemake course` builds nothing rather than a stand-in.
"""

COURSE_TARGETS = []


rule course:
    """Every artifact of this paper."""
    input:
        COURSE_TARGETS,
