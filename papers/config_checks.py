"""The whole check of a configuration: the schema and the shared sections
(``common.config.validate_config``) and each paper's own section
(``papers/<paper>/plan.py::config_errors``). The Snakefile runs it before planning;
it also runs by hand, naming any file Snakemake's own reader would not::

    python -m papers.config_checks                      # config/config.yaml
    python -m papers.config_checks config/paper.yaml    # with paper.yaml laid over it
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from common import PROJECT_ROOT
from common.config import ConfigError, load_config_file, merged, path_errors, validate_config
from papers.cartoonx import plan as cartoonx
from papers.course import plan as course
from papers.dxai import plan as dxai
from papers.pv import plan as pv
from papers.survey import plan as survey

SECTION_CHECKS = (cartoonx.config_errors, course.config_errors, dxai.config_errors,
                  pv.config_errors, survey.config_errors)


def validate(config: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` naming every malformed key of ``config``, shared or a
    paper's."""
    validate_config(config, SECTION_CHECKS)


def check_files(files: Sequence[str | Path]) -> list[str]:
    """Every problem of config/config.yaml with ``files`` laid over it, as
    ``snakemake --configfile <files>`` would meet them before its first job: a file that is
    unreadable, empty or not a mapping (by name), a malformed key, a path not on disk."""
    config, problems = {}, []
    for file in [PROJECT_ROOT / "config" / "config.yaml", *files]:
        try:
            config = merged(config, load_config_file(file))
        except ConfigError as error:
            problems.append(str(error))
    if problems:
        return problems
    try:
        validate(config)
    except ConfigError as error:
        return [str(error)]
    return path_errors(config)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the configuration's problems and return 1, or say it is valid and return 0."""
    files = list(sys.argv[1:] if argv is None else argv)
    problems = check_files(files)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print("valid: " + " + ".join(["config/config.yaml", *map(str, files)]))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
