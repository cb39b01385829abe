"""The paper miniature differs from the paper scale in counts only, and runs end to end."""

import fnmatch
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from common.explain import METHODS
from common.miniature.run import scale_configs, snakemake_command
from papers.config_checks import validate as validate_config

#: The keys the miniature may set below the paper scale: how many images, epochs,
#: iterations, steps, samples, evaluation points and repetitions, never what runs.
#: Dataset lists and seeds are repetitions of one code path over more datasets or seeds
#: (the miniature keeps a subset, in the paper's order, that every other key still names).
COUNT_KEYS = (
    "datasets.*.n_train", "datasets.*.n_test",
    "training.*.epochs",
    "attribution_evaluation.images", "attribution_evaluation.sanity.images",
    "attribution_evaluation.metrics.deletion_steps", "attribution_evaluation.metrics.aopc_steps",
    "*.method_params.*.steps", "*.method_params.*.samples", "*.method_params.*.masks",
    "dxai.datasets", "dxai.cross_classifier.datasets", "dxai.groundtruth.datasets",
    "dxai.training.iterations", "dxai.training.evaluate_every", "dxai.training.checkpoint_every",
    "dxai.training.probe_images", "dxai.evaluation.images", "dxai.evaluation.betas",
    "dxai.stability.images", "dxai.stability.seeds", "dxai.naive.images", "dxai.naive.iterations",
    "cartoonx.rde.steps", "cartoonx.rde.samples", "cartoonx.evaluations.*.images",
    "cartoonx.rate_distortion.draws", "cartoonx.rate_distortion.fractions",
    "cartoonx.chance_draws", "cartoonx.sensitivity.sparsity", "cartoonx.lambda_sweep.images",
    "cartoonx.runtime.steps", "cartoonx.runtime.timed_steps", "cartoonx.runtime.ig_steps",
    "survey.figure10.images", "survey.human_likeness.images", "survey.perturbation.images",
    "survey.perturbation.metrics.deletion_steps", "survey.perturbation.metrics.aopc_steps",
    "survey.sanity.images", "survey.timing.images", "survey.timing.repeats",
    "pv.decoder.epochs", "pv.evaluation.images", "pv.examples.images",
    "pv.survey_kit.model_right", "pv.survey_kit.model_wrong",
    "pv.simulated_respondents.participants.*",
    "course.localisation.images", "course.lrp.images", "course.vit.probing_images",
    "course.sanity.images",
)


def flat(config, prefix=""):
    """Dotted key -> value for every leaf of a nested mapping (lists are leaves, an empty
    mapping holds none)."""
    leaves = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            leaves |= flat(value, f"{path}.")
        else:
            leaves[path] = value
    return leaves


def _registry_default(key: str):
    """The registry's default of a ``<section>.method_params.<method>.<parameter>`` key: the
    paper scale's value where its configuration leaves the parameter to the registry."""
    *_, method, parameter = key.split(".")
    return METHODS[method].defaults[parameter]


@pytest.fixture(scope="module")
def scales():
    return scale_configs(REPO)


def test_on_a_gpu_the_miniature_runs_its_gpu_jobs_one_at_a_time_as_the_gpu_profile_does():
    """Three of DXAI's trainings at once (21 GiB each) exhausted an 80 GiB H100, and the
    timing rules measure seconds per image, which a shared GPU would inflate."""
    profile = yaml.safe_load((REPO / "profiles/gpu/config.yaml").read_text())
    on_gpu = snakemake_command(Path("overlay.yaml"), "cuda", 16, [])
    assert on_gpu[on_gpu.index("--resources") + 1] == f"gpu={profile['resources']['gpu']}"
    assert profile["resources"]["gpu"] == 1
    assert "--resources" not in snakemake_command(Path("overlay.yaml"), "cpu", 2, [])


def test_the_miniature_is_a_valid_configuration(scales):
    validate_config(scales[1])


def test_the_miniature_differs_from_the_paper_scale_in_counts_only(scales):
    paper, mini = (flat(config) for config in scales)
    changed = sorted(key for key in paper.keys() | mini.keys() if paper.get(key) != mini.get(key))
    assert changed, "the miniature changes nothing"
    not_counts = [key for key in changed
                  if not any(fnmatch.fnmatchcase(key, pattern) for pattern in COUNT_KEYS)]
    assert not not_counts, f"the miniature changes keys that are not counts: {not_counts}"
    for key in changed:
        full = paper[key] if key in paper else _registry_default(key)
        small = mini[key]
        if isinstance(full, list):
            assert small and small == [item for item in full if item in small], (key, small)
        else:
            assert 0 < small <= full, (key, small, full)


def test_the_count_check_catches_a_changed_architecture_or_method(scales):
    """A miniature that swapped a width or a method would be caught (the check can fail)."""
    paper, mini = scales
    for path, value in ((("training", "vit", "options", "dim"), 64),
                        (("dxai", "evaluation", "heatmap_methods"), ["gradcam"]),
                        (("datasets", "scenes", "image_size"), 32)):
        changed = {**flat(mini), ".".join(path): value}
        offending = [key for key in changed if changed[key] != flat(paper).get(key)
                     and not any(fnmatch.fnmatchcase(key, pattern) for pattern in COUNT_KEYS)]
        assert offending == [".".join(path)]


# --------------------------------------------------------------------------- the run

PAPERS = ["dxai", "survey", "pv", "cartoonx", "course", "explanations", "shared"]


@pytest.fixture(scope="module")
def miniature(tmp_path_factory):
    """The paper miniature, run end to end in a copy on fabricated sources (what
    ``make paper-miniature`` runs), with the command that reruns it there."""
    from common.miniature.run import run

    workdir = tmp_path_factory.mktemp("miniature")
    log = workdir.parent / "miniature.log"
    with log.open("w") as stream:
        seconds = run(workdir, device="cpu", cores=2, log=stream)
    print(f"paper miniature: {seconds:.0f} s")
    return workdir


@pytest.mark.workflow
def test_the_miniature_builds_every_papers_paper_scale_targets(miniature):
    """After the run, Snakemake has nothing left to build for any paper's targets at the
    paper miniature's configuration (the same targets as the paper scale's)."""
    import subprocess
    import sys

    overlay = miniature / ".miniature" / "sources.yaml"
    command = [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "all", *PAPERS,
               "--configfile", "config/paper.yaml", "config/paper_mini.yaml", str(overlay),
               "--config", "device=cpu"]
    result = subprocess.run(command, cwd=miniature, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.workflow
def test_the_miniature_fetched_its_sources_through_the_download_rules(miniature):
    """VOC's tar and MexCulture's zip were fetched from the loopback server, checked and
    unpacked by the paper scale's own rules, and the real loaders read them."""
    import json

    from common.data import load_manifest

    assert load_manifest(miniature / "resources/data/scenes")["source"] == \
        "resources/sources/voc2012/VOCdevkit"
    assert load_manifest(miniature / "resources/data/mexculture")["counts"] == {"test": 8}
    fetched = miniature / "resources/downloads/vgg16/vgg16-397923af.pth"
    record = json.loads((miniature / "results/provenance" / f"{fetched.relative_to(miniature)}"
                                                            ".json").read_text())
    assert record["params"]["source"]["url"].startswith("http://127.0.0.1:")


@pytest.mark.workflow
def test_every_job_records_its_memory_and_the_table_extrapolates_it(miniature):
    from common.miniature.run import markdown, rule_table

    rows = {row["rule"]: row for row in rule_table(miniature)}
    assert {"train_classifier", "dxai_train", "cartoonx_explain", "pv_train_decoder",
            "survey_table1", "course_vit"} <= set(rows)
    for row in rows.values():
        assert row["peak_rss_mib"] > 0, row
    for rule in ("train_classifier", "dxai_train", "cartoonx_explain"):
        assert rows[rule]["peak_rss_mib"] > 100, rows[rule]  # torch alone takes more
    # DXAI trains 1 of the paper's 300000 iterations: its estimate scales by that ratio
    dxai = rows["dxai_train"]
    assert dxai["paper_seconds"] == pytest.approx(dxai["seconds"] * 300000)
    assert "| dxai_train |" in markdown(list(rows.values()))
