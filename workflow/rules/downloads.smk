"""Paper-scale sources fetched from their publishers (config ``downloads``; common/download.py).

    snakemake --cores 1 resources/sources/voc2012      # fetch, verify and unpack one

Only a target that needs a source fetches it: a dataset ``root`` or a weight
file under resources/sources/<name>/ or resources/downloads/<name>/ makes the
rule that reads it depend on these rules. The embedded default names none.
"""

import re

from common.download import Source

DOWNLOADS = config.get("downloads", {})
SOURCE_NAMES = "|".join(map(re.escape, DOWNLOADS)) or "(?!)"  # (?!): no sources configured


rule fetch_source:
    """Download one source and verify the checksum its publisher gives."""
    output:
        "resources/downloads/{source}/{filename}",
    params:
        source=lambda wildcards: DOWNLOADS[wildcards.source],
    log:
        "logs/downloads/{source}/{filename}.log",
    wildcard_constraints:
        source=SOURCE_NAMES,
        filename=r"[^/]+",
    retries: 2
    conda:
        "../../envs/xai.yaml"
    script:
        "../scripts/fetch_source.py"


rule unpack_source:
    """Extract a fetched archive (config downloads.<source>.unpack: zip or tar)."""
    input:
        lambda wildcards: str(Source.from_config(config, wildcards.source).fetched),
    output:
        directory("resources/sources/{source}"),
    params:
        source=lambda wildcards: DOWNLOADS[wildcards.source],
    log:
        "logs/downloads/{source}/unpack.log",
    wildcard_constraints:
        source=SOURCE_NAMES,
    conda:
        "../../envs/xai.yaml"
    script:
        "../scripts/unpack_source.py"
