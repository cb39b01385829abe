"""Unpack one fetched archive into resources/sources/<source> (rule unpack_source)."""

from common.download import Source, unpack
from common.entry import snakemake_object
from common.tracking import Job


def main(smk) -> None:
    with Job(smk):
        source = Source.from_config({"downloads": {smk.wildcards.source: smk.params.source}},
                                    smk.wildcards.source)
        unpack(source, smk.input[0], smk.output[0])


if __name__ == "__main__":
    main(snakemake_object())
