"""CartoonX: wavelet rate-distortion explanations (issue 5).

Outputs live under results/cartoonx/. Every figure and table of this paper is added
to CARTOONX_TARGETS by the rule that builds it; the list is empty until the
paper's issue lands, so `snakemake cartoonx` builds nothing rather than a stand-in.
"""

CARTOONX_TARGETS = []


rule cartoonx:
    """Every artifact of this paper."""
    input:
        CARTOONX_TARGETS,
