"""The embedded default, exactly as `make reproduce` runs it, in a temporary copy."""

import pandas as pd
import pytest
from conftest import copy_repository, lineage, snakemake

pytestmark = pytest.mark.workflow


def test_embedded_default_builds_every_target(tmp_path):
    copy = copy_repository(tmp_path)
    snakemake(["--cores", "all"], copy)
    accuracy = pd.read_csv(copy / "results/models/accuracy.csv")
    assert (accuracy["test_accuracy"] >= 0.8).all(), accuracy
    assert "Nothing to be done" in "".join(
        snakemake(["-n", "--cores", "1"], copy).stdout + snakemake(["-n"], copy).stderr)
    assert "all recorded inputs and outputs match" in lineage(["verify"], copy).stdout
