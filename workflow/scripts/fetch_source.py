"""Fetch one configured source and verify its checksum (rule fetch_source)."""

from pathlib import Path

from common.download import Source, fetch
from common.entry import snakemake_object
from common.tracking import LOGGER, Job


def main(smk) -> None:
    with Job(smk):
        source = Source.from_config({"downloads": {smk.wildcards.source: smk.params.source}},
                                    smk.wildcards.source)
        if Path(smk.output[0]) != source.fetched:
            raise ValueError(f"config key '{source.key}': it fetches {source.fetched}, "
                             f"not {smk.output[0]}")
        LOGGER.info("fetching %s", source.url)
        digest = fetch(source, smk.output[0])
        LOGGER.info("%s %s verified (%d bytes)", source.algorithm, digest,
                    Path(smk.output[0]).stat().st_size)


if __name__ == "__main__":
    main(snakemake_object())
