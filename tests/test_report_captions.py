"""The HTML report's captions are valid reStructuredText (Snakemake renders them with
docutils, which prints an error and garbles the caption where one is not)."""

from pathlib import Path

import docutils.core
import docutils.utils
import pytest
from conftest import REPO

CAPTIONS = sorted([*REPO.glob("papers/*/report/*.rst"), *REPO.glob("workflow/report/*.rst")])


@pytest.mark.parametrize("caption", CAPTIONS, ids=lambda path: path.relative_to(REPO).as_posix())
def test_caption_renders_without_errors(caption: Path):
    try:
        docutils.core.publish_string(caption.read_text(), writer="null",
                                     settings_overrides={"halt_level": 3, "report_level": 5})
    except docutils.utils.SystemMessage as error:
        pytest.fail(f"{caption.relative_to(REPO)}: {error}")
