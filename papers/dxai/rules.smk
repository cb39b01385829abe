"""DXAI: explaining classification by image decomposition (issue 6).

Outputs live under results/dxai/. Every figure and table of this paper is added
to DXAI_TARGETS by the rule that builds it; the list is empty until the
paper's issue lands, so `snakemake dxai` builds nothing rather than a stand-in.
"""

DXAI_TARGETS = []


rule dxai:
    """Every artifact of this paper."""
    input:
        DXAI_TARGETS,
