"""Unpack one fetched archive into resources/sources/<source> (rule unpack_source)."""

from common.download import Source, unpack
from common.tracking import Job


def main(smk) -> None:
    with Job(smk):
        source = Source.from_config({"downloads": {smk.wildcards.source: smk.params.source}},
                                    smk.wildcards.source)
        unpack(source, smk.input[0], smk.output[0])


main(snakemake)  # noqa: F821 (injected by Snakemake)
