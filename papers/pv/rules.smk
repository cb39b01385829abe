"""Perception Visualization (issue 7).

Outputs live under results/pv/. Every figure and table of this paper is added
to PV_TARGETS by the rule that builds it; the list is empty until the
paper's issue lands, so `snakemake pv` builds nothing rather than a stand-in.
"""

PV_TARGETS = []


rule pv:
    """Every artifact of this paper."""
    input:
        PV_TARGETS,
