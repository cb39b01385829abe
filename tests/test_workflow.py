"""The workflow as a user meets it: dry runs, lint, a tiny end-to-end run and its lineage."""

import functools
import hashlib
import json
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import PLANTED_API_KEY, lineage, run, snakemake

pytestmark = pytest.mark.workflow

FIGURE = "results/models/figures/predictions_peppers_simple_seed0.pdf"
TINY = ["--configfile", "tests/tiny.yaml"]


def planned_outputs(copy) -> dict[str, tuple[str, bool]]:
    """Snakemake's own view of the tiny workflow in ``copy``: each output file, the rule
    that makes it, and whether Snakemake would rebuild it (an oracle independent of
    our provenance records and of ``common.lineage``)."""
    table = snakemake(["--summary", *TINY], copy).stdout.splitlines()
    header = table.index("output_file\tdate\trule\tlog-file(s)\tstatus\tplan")
    rows = [line.split("\t") for line in table[header + 1:] if line.count("\t") == 5]
    return {output: (rule, plan == "update pending")
            for output, _, rule, _, _, plan in rows}


@pytest.fixture(scope="module")
def dry_run(pristine_copy):
    """Snakemake's plan (dry run) of the pristine copy, made once per set of options."""

    @functools.cache
    def plan(*extra: str) -> str:
        result = snakemake(["-n", "--cores", "1", *extra], pristine_copy)
        return result.stdout + result.stderr

    return plan


@pytest.mark.parametrize("extra", [
    [],
    ["--configfile", "config/paper.yaml"],
    ["--profile", "profiles/gpu"],
    ["--profile", "profiles/slurm", "--configfile", "config/paper.yaml"],
], ids=["embedded", "paper", "gpu-profile", "slurm-profile"])
def test_dry_run_plans_every_target(dry_run, extra):
    plan = dry_run(*extra)
    for rule in ["make_dataset", "make_test_dataset", "train_classifier", "accuracy_table",
                 "prediction_figure", "imagenet_predictions"]:
        assert re.search(rf"^{rule}\s+\d+", plan, re.MULTILINE), rule


def test_the_default_profile_applies_without_being_named(dry_run):
    """Snakemake looks for a workflow profile at profiles/default beside the Snakefile: its
    settings (rerun what a stopped run left incomplete, show a failed job's log) apply to a
    plain ``snakemake`` in the project's root."""
    assert "Using workflow specific profile profiles/default" in dry_run()


def test_paper_scale_plans_every_classifier(dry_run):
    plan = dry_run("--configfile", "config/paper.yaml")
    assert re.search(r"^train_classifier\s+14$", plan, re.MULTILINE)
    # DXAI: 5 datasets, Simple on Table 3's four, 2 ablations, 2 more stability seeds
    assert re.search(r"^dxai_train\s+13$", plan, re.MULTILINE)


def test_each_paper_and_figure_is_its_own_target(pristine_copy):
    """Snakemake refuses a target it does not know, so one dry run checks the five names."""
    papers = snakemake(["-n", "--cores", "1", "dxai", "survey", "pv", "cartoonx", "course"],
                       pristine_copy)
    for paper in ["dxai", "survey", "pv", "cartoonx", "course"]:
        assert re.search(rf"^{paper}\s+1$", papers.stdout, re.MULTILINE), paper
    result = snakemake(["-n", "--cores", "1", FIGURE], pristine_copy)
    assert "accuracy_table" not in result.stdout


def test_planning_imports_no_library_that_only_jobs_use(pristine_copy):
    """Every Snakemake call (a dry run, each SLURM job's) parses the rules: what the rules
    and the configuration checks ask of papers/ and common/ is kept out of the modules that
    import torch, SciPy, scikit-image, matplotlib and the attribution libraries (the method
    and architecture registries name their code, imported when a job calls it)."""
    result = run([sys.executable, "-X", "importtime", "-m", "snakemake", "-n", "-q"],
                 pristine_copy)
    imported = {line.rpartition("|")[2].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert "papers.config_checks" in imported  # the rules' imports are among those listed
    jobs_only = {"torch", "scipy", "skimage", "matplotlib", "torchvision", "captum", "zennit",
                 "wandb"}
    assert not imported & jobs_only, sorted(imported & jobs_only)


def test_lint_is_clean(pristine_copy):
    result = snakemake(["--lint"], pristine_copy)
    assert "Congratulations, your workflow is in a good condition" in result.stdout + result.stderr


def test_up_to_date_tree_plans_nothing(tiny_run):
    result = snakemake(["-n", "--cores", "1", *TINY], tiny_run)
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.parametrize("switch", [["--config", "device=cpu"], ["--profile", "profiles/gpu"]])
def test_another_device_or_profile_reruns_nothing(tiny_run, switch):
    """The device is an execution setting, recorded in provenance, not a rule parameter
    (the gpu profile sets device cuda)."""
    result = snakemake(["-n", "--cores", "1", *TINY, *switch], tiny_run)
    assert "Nothing to be done" in result.stdout + result.stderr


def test_report_contains_every_marked_output(tiny_run):
    report = (tiny_run / "report.html").read_text()
    for name in ["accuracy.csv", "preview.png", "predictions_peppers_simple_seed0.png"]:
        assert name in report


def test_every_output_has_a_record_a_log_and_an_offline_wandb_run(tiny_run):
    records = {path.relative_to(tiny_run / "results/provenance").as_posix()[:-len(".json")]:
               json.loads(path.read_text())
               for path in (tiny_run / "results/provenance").rglob("*.json")}
    planned = planned_outputs(tiny_run)
    assert set(records) == set(planned)
    assert {output: record["rule"] for output, record in records.items()} == {
        output: rule for output, (rule, _) in planned.items()}
    for record in records.values():
        assert all((tiny_run / log).stat().st_size > 0 for log in record["log"])
        assert record["wandb"]["mode"] == "offline"
        run_dir = tiny_run / record["wandb"]["dir"]
        assert list(run_dir.glob(f"run-{record['wandb']['run_id']}.wandb")), run_dir


def test_planted_api_key_is_written_nowhere(tiny_run):
    for folder in ["results", "logs", "wandb", "resources", ".snakemake"]:
        for path in (tiny_run / folder).rglob("*"):
            if path.is_file():
                assert PLANTED_API_KEY.encode() not in path.read_bytes(), path
    assert PLANTED_API_KEY not in (tiny_run / "report.html").read_text()


def _jobs(node):
    """Yield every job node of a lineage tree, depth first."""
    yield node
    for entry in node.get("inputs", []):
        yield from _jobs(entry["lineage"])


def test_lineage_show_reaches_generated_data(tiny_run):
    tree = json.loads(lineage(["--json", "show", FIGURE], tiny_run).stdout)
    rules = [node.get("rule") for node in _jobs(tree)]
    assert rules[0] == "prediction_figure"
    assert {"train_classifier", "make_dataset"} <= set(rules)
    commit = tree["code"]["commit"]
    assert re.fullmatch(r"[0-9a-f]{40}", commit) and tree["code"]["dirty"] is False
    generator = next(node for node in _jobs(tree) if node.get("rule") == "make_dataset")
    assert generator["inputs"] == [] and generator["seed"] == 0
    assert "common/data/peppers.py" in generator["code"]["modules"]
    assert "workflow/scripts/make_dataset.py" in generator["code"]["modules"]
    assert {"torch", "numpy", "python"} <= set(tree["packages"])
    text = lineage(["show", FIGURE], tiny_run).stdout
    assert "inputs    none: generated from parameters and seed" in text


def test_lineage_verify_passes_then_names_a_tampered_input(tiny_run, tmp_path):
    assert "all recorded inputs and outputs match" in lineage(["verify"], tiny_run).stdout
    copy = shutil.copytree(tiny_run, tmp_path / "tampered", symlinks=True)
    with open(copy / "resources/data/peppers/test.npz", "ab") as handle:
        handle.write(b"tampered")
    result = lineage(["verify"], copy, check=False)
    assert result.returncode == 1
    assert "MISMATCH input resources/data/peppers/test.npz" in result.stdout
    assert "MISMATCH output resources/data/peppers/test.npz" in result.stdout
    assert "train.npz" not in result.stdout


def test_lineage_stale_lists_exactly_what_snakemake_would_rebuild_after_an_edit(
        tiny_run, tmp_path):
    copy = shutil.copytree(tiny_run, tmp_path / "edited", symlinks=True)
    assert json.loads(lineage(["--json", "stale"], copy).stdout) == {}
    script = copy / "workflow/scripts/train_classifier.py"
    script.write_text(script.read_text() + "\n# an edit\n")
    stale = json.loads(lineage(["--json", "stale"], copy).stdout)
    rebuilt = {output for output, (_, pending) in planned_outputs(copy).items() if pending}
    assert {"results/models/peppers/simple/seed0.pt", FIGURE} <= rebuilt
    assert set(stale) == rebuilt
    assert stale["results/models/peppers/simple/seed0.pt"] == [
        "code changed: workflow/scripts/train_classifier.py"]


def test_a_rerun_supersedes_the_earlier_wandb_run_and_sync_sees_the_current_one(
        pristine_copy, tmp_path):
    """After a forced rerun, README's sync command (here with --dry-run, offline) would
    upload exactly one run for the job: the one its provenance record names, which carries
    the git commit, the seed and the wildcards and is tagged with paper and rule."""
    copy = shutil.copytree(pristine_copy, tmp_path / "copy", symlinks=True)
    target = "resources/data/peppers/manifest.json"
    snakemake([target, "--cores", "1", *TINY], copy)
    snakemake([target, "--cores", "1", *TINY, "--forcerun", "make_dataset"], copy)
    record = json.loads((copy / "results/provenance" / f"{target}.json").read_text())
    current = record["wandb"]["run_id"]
    runs = sorted(str(path.relative_to(copy))
                  for path in copy.glob("wandb/*/*/wandb/offline-run-*"))  # README's glob
    result = run([str(Path(sys.executable).with_name("wandb")), "sync", "--dry-run", *runs],
                 copy, env={"WANDB_API_KEY": None})
    assert "Would sync 1 run(s)" in result.stdout + result.stderr
    assert f"run-{current}.wandb" in result.stdout + result.stderr
    assert len(list(copy.glob("wandb/make_dataset/dataset=peppers/superseded/offline-run-*"))) == 1
    stored = (copy / record["wandb"]["dir"] / f"run-{current}.wandb").read_bytes()
    for text in (record["code"]["commit"], '"dirty":', '{"dataset":"peppers"}', "make_dataset",
                 "common"):  # configuration values are stored as JSON, tags as plain strings
        assert text.encode() in stored


def test_disabled_wandb_mode_still_runs_and_records(pristine_copy, tmp_path):
    copy = shutil.copytree(pristine_copy, tmp_path / "disabled", symlinks=True)
    target = "resources/data/peppers/manifest.json"
    snakemake([target, "--cores", "1", *TINY], copy,
              env={"WANDB_MODE": "disabled"})
    record = json.loads((copy / "results/provenance" / f"{target}.json").read_text())
    assert record["wandb"] == {"mode": "disabled", "run_id": None, "dir": None}
    assert not list((copy / "wandb").rglob("*.wandb"))


def _fabricate_mexculture(root):
    """Two categories of two views each, every image with its gaze density map."""
    from PIL import Image

    for category, colour in (("Colonial_001", (250, 120, 0)), ("Modern_002", (60, 60, 60))):
        for view in (1, 2):
            name = f"{category}_{view}"
            (root / "Images" / category).mkdir(parents=True, exist_ok=True)
            (root / "Density Maps").mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (64, 48), colour).save(root / "Images" / category / f"{name}.jpg")
            density = Image.new("L", (64, 48), 0)
            density.paste(200, (10 * view, 10, 10 * view + 20, 30))
            density.save(root / "Density Maps" / f"{name}.png")


def test_a_real_dataset_comes_from_its_root_or_a_verified_download(
        pristine_copy, tmp_path, local_server):
    """A missing root names its key before any job; a root under resources/sources/ is fetched
    from (here) a local server, verified and unpacked by the download rules, and read by the
    real loader. A wrong checksum stops them and leaves nothing."""
    copy = shutil.copytree(pristine_copy, tmp_path / "real", symlinks=True)
    target = "resources/data/textures/manifest.json"
    overlay = tmp_path / "real.yaml"
    overlay.write_text(f"datasets:\n  textures: {{root: '{tmp_path / 'absent'}'}}\n")
    failed = snakemake([target, "--cores", "1", *TINY, str(overlay)], copy, check=False)
    assert failed.returncode != 0
    assert (f"config key 'datasets.textures.root': dataset root {tmp_path / 'absent'} is not a "
            f"directory") in failed.stdout + failed.stderr
    assert not (copy / "logs/datasets").exists() and not (copy / target).exists()

    folder, url = local_server
    _fabricate_mexculture(tmp_path / "MexCulture142")
    with tarfile.open(folder / "mexculture.tar.gz", "w:gz") as bundle:
        bundle.add(tmp_path / "MexCulture142", arcname="MexCulture142")
    digest = hashlib.sha256((folder / "mexculture.tar.gz").read_bytes()).hexdigest()
    target = "resources/data/mexculture/manifest.json"
    by_hand = copy / "resources/downloads/gaze/mexculture.tar.gz"
    for checksum in ("by hand", "0" * 64, digest):
        overlay.write_text(
            "datasets:\n  mexculture: {image_size: 32, root: resources/sources/gaze}\n"
            f"downloads:\n  gaze: {{url: '{url}/mexculture.tar.gz', "
            f"sha256: '{digest if checksum == 'by hand' else checksum}', unpack: tar}}\n")
        if checksum == "by hand":  # no download runs for a file that exists: unpacking checks
            by_hand.parent.mkdir(parents=True, exist_ok=True)
            by_hand.write_bytes(b"not the published archive")
        result = snakemake([target, "--cores", "1", *TINY, str(overlay)], copy, check=False)
        if checksum == "by hand":
            assert result.returncode != 0
            log = (copy / "logs/downloads/gaze/unpack.log").read_text()
            assert f"config key 'downloads.gaze': {by_hand.relative_to(copy)} has sha256" in log
            assert by_hand.read_bytes() == b"not the published archive"  # the user's file stays
            assert not (copy / "resources/sources/gaze").exists()
            by_hand.unlink()
        elif checksum != digest:
            assert result.returncode != 0
            log = (copy / "logs/downloads/gaze/mexculture.tar.gz.log").read_text()
            assert "config key 'downloads.gaze'" in log and digest in log
            assert not list((copy / "resources/downloads").rglob("mexculture.tar.gz*"))
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((copy / target).read_text())
    assert manifest["source"] == "resources/sources/gaze" and manifest["counts"] == {"test": 4}
    test = np.load(copy / "resources/data/mexculture/test.npz")
    assert test["density"].shape == (4, 32, 32) and test["density"].max() == 1.0
    record = json.loads((copy / "results/provenance" / f"{target}.json").read_text())
    assert "resources/sources/gaze" in {item["path"] for item in record["inputs"]}


def test_two_clean_runs_give_the_same_bytes_whatever_the_cores(pristine_copy, tmp_path):
    """Jobs compute with the configuration's torch_threads, not the cores Snakemake gives
    them: with two threads configured, a clean run with --cores 1 and one with --cores 2
    write the same dataset and model bytes. Only the training's wall time may differ."""
    overlay = tmp_path / "threads.yaml"
    overlay.write_text("torch_threads: 2\n")
    target = "results/models/peppers/simple/seed0.pt"
    outputs = []
    for cores in ("1", "2"):
        copy = shutil.copytree(pristine_copy, tmp_path / f"cores{cores}", symlinks=True)
        snakemake([target, "--cores", cores, *TINY, str(overlay)], copy)
        record = json.loads((copy / "results/provenance" / f"{target}.json").read_text())
        assert record["execution"]["threads"] == 2
        files = sorted(path for folder in ("resources/data", "results/models")
                       for path in (copy / folder).rglob("*") if path.is_file())
        outputs.append({path.relative_to(copy): _without_wall_time(path) for path in files})
    assert len(outputs[0]) == 6 and outputs[0] == outputs[1]


def _without_wall_time(path):
    """A file's bytes; a training summary's JSON without its wall time."""
    if path.suffix != ".json" or "results/models" not in path.as_posix():
        return path.read_bytes()
    return {key: value for key, value in json.loads(path.read_text()).items()
            if key != "train_seconds"}


def test_a_run_stopped_with_sigterm_leaves_a_state_the_next_run_accepts(pristine_copy, tmp_path):
    """On SIGTERM Snakemake lets its running jobs finish, starts no other, and exits 1 with
    "At least one job did not complete successfully" although every job it ran completed;
    the next run takes up from there (docs/reliability.md says what to expect)."""
    copy = shutil.copytree(pristine_copy, tmp_path / "stopped", symlinks=True)
    target = "results/models/scenes/vgg/seed0.pt"
    stopped = subprocess.Popen([sys.executable, "-m", "snakemake", target, "--cores", "1", *TINY],
                               cwd=copy, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    training_log = copy / "logs/models/scenes/vgg/seed0.log"
    deadline = time.monotonic() + 300
    while not training_log.exists() and stopped.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    stopped.send_signal(signal.SIGTERM)
    output, _ = stopped.communicate(timeout=300)
    assert stopped.returncode == 1
    assert "At least one job did not complete successfully" in output
    assert "job train_classifier[arch=vgg,dataset=scenes,seed=0] finished" in \
        training_log.read_text()
    assert "Nothing to be done" in snakemake([target, "-n", *TINY], copy).stdout
    assert "all recorded inputs and outputs match" in lineage(["verify"], copy).stdout

