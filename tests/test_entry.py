"""A rule's script run by hand reproduces its job (common.entry)."""

import json
import re
import sys
from pathlib import Path

import pytest
from conftest import REPO, copy_repository, run, snakemake

from common.entry import job_for_script

MAKE_DATASET = Path("workflow/scripts/make_dataset.py")


def test_a_script_run_by_hand_writes_the_bytes_snakemake_writes(tmp_path):
    """The peppers dataset built by `python -m workflow.scripts.make_dataset` in one copy and
    by Snakemake in another: the same splits and manifest, and a provenance record."""
    by_snakemake = copy_repository(tmp_path / "snakemake")
    by_hand = copy_repository(tmp_path / "hand")
    snakemake(["--cores", "1", "resources/data/peppers/manifest.json",
               "--configfile", "tests/tiny.yaml"], by_snakemake)
    run([sys.executable, "-m", "workflow.scripts.make_dataset", "make_dataset",
         "dataset=peppers", "--configfile", "tests/tiny.yaml"], by_hand)
    for name in ("train.npz", "test.npz", "manifest.json"):
        made = [(copy / "resources/data/peppers" / name).read_bytes()
                for copy in (by_snakemake, by_hand)]
        assert made[0] == made[1], name
    assert (by_hand / "logs/datasets/peppers.log").exists()
    record = json.loads((by_hand / "results/provenance/resources/data/peppers/train.npz.json")
                        .read_text())
    assert record["rule"] == "make_dataset"


def test_the_object_built_by_hand_is_the_jobs():
    smk = job_for_script(REPO / MAKE_DATASET, ["make_dataset", "dataset=peppers"])
    assert smk.rule == "make_dataset"
    assert list(smk.output) == [f"resources/data/peppers/{name}" for name in
                                ("train.npz", "test.npz", "manifest.json", "preview.png")]
    assert smk.params.settings["n_train"] == smk.config["datasets"]["peppers"]["n_train"]
    assert smk.log[0] == "logs/datasets/peppers.log"


@pytest.mark.parametrize(("argv", "problem"), [
    (["dataset=peppers"], "2 rules run make_dataset.py (make_dataset, make_test_dataset): "
                          "name one"),
    (["train_classifier", "dataset=peppers"], "rule 'train_classifier' does not run "
                                              "make_dataset.py"),
    (["make_dataset"], "rule make_dataset takes the wildcards ['dataset'], not none"),
    (["make_dataset", "dataset=peppers", "seed=1"], "not ['dataset', 'seed']"),
])
def test_a_job_that_cannot_be_named_says_what_is_missing(argv, problem):
    with pytest.raises(SystemExit, match=re.escape(problem)):
        job_for_script(REPO / MAKE_DATASET, argv)
