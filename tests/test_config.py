"""The configuration schema rejects malformed values, naming the key, before any job."""

import sys

import pytest
import yaml
from conftest import REPO, run, snakemake

from common.config import (
    ConfigError,
    load_config_file,
    merged,
    path_errors,
    training_settings,
)
from papers.config_checks import main as check_config_files
from papers.config_checks import validate as validate_config


def default_config() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_shipped_configs_are_valid():
    validate_config(default_config())
    paper = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    validate_config(merged(default_config(), paper))


def _set(config, path, value):
    *parents, last = path
    for key in parents:
        config = config[key]
    if value is KeyError:
        del config[last]
    else:
        config[last] = value


MALFORMED = [
    (["colour"], "red", "colour"),
    (["datasets", "peppers", "colour"], "red", "datasets.peppers.colour"),
    (["datasets", "peppers", "n_train"], -5, "datasets.peppers.n_train"),
    (["datasets", "peppers", "image_size"], 8, "datasets.peppers.image_size"),
    (["datasets", "peppers", "seed"], "zero", "datasets.peppers.seed"),
    (["training", "simple", "epochs"], "ten", "training.simple.epochs"),
    (["training", "simple", "learning_rate"], 0, "training.simple.learning_rate"),
    (["training", "simple", "batch_size"], KeyError, "training.simple.batch_size"),
    (["device"], "gpu", "device"),
    (["scale"], "huge", "scale"),
    (["classifiers"], {"dataset": "peppers"}, "classifiers"),
    (["classifiers", 0, "seeds"], [], "classifiers[0].seeds"),
    (["classifiers", 0, "seeds"], [1, 1], "classifiers[0].seeds"),
    (["classifiers", 0, "dataset"], "no_such_data", "classifiers[0].dataset"),
    (["classifiers", 0, "arch"], "resnet999", "classifiers[0].arch"),
    (["classifiers", 0, "dataset"], "photos", "classifiers[0].dataset"),
    (["training", "vit", "options", "layers"], 3, "training.vit.options.layers"),
    (["training", "vgg", "augment"], "yes", "training.vgg.augment"),
    (["datasets", "tumor", "root"], 5, "datasets.tumor.root"),
    (["pretrained", "vgg16"], 16, "pretrained.vgg16"),
    (["attribution_evaluation", "methods"], ["gradcam", "gradcam"],
     "attribution_evaluation.methods"),
    (["attribution_evaluation", "methods"], ["no_such_method"], "attribution_evaluation.methods"),
    (["attribution_evaluation", "sanity", "methods"], ["saliency_map"],
     "attribution_evaluation.sanity.methods"),
    (["attribution_evaluation", "method_params"], {"ris": {"masks": 5}},
     "attribution_evaluation.method_params"),
    (["attribution_evaluation", "arch"], "vit", "attribution_evaluation"),
    (["attribution_evaluation", "metrics", "iou_threshold"], 0,
     "attribution_evaluation.metrics.iou_threshold"),
    (["cartoonx", "rde", "distortion"], "l1", "cartoonx.rde.distortion"),
    (["cartoonx", "sparsity", "pixel_rde"], -1, "cartoonx.sparsity.pixel_rde"),
    (["cartoonx", "figure5"], "photos_vgg", "cartoonx.figure5"),
    (["cartoonx", "lambda_sweep", "evaluation"], "cars", "cartoonx.lambda_sweep.evaluation"),
    (["cartoonx", "evaluations", "cars_resnet18", "model"], "vgg",
     "cartoonx.evaluations.cars_resnet18"),
    (["cartoonx", "evaluations", "photos_efficientnet_lite0", "model"], "resnet18",
     "cartoonx.evaluations.photos_efficientnet_lite0.model"),
    (["cartoonx", "evaluations", "photos_efficientnet_lite0", "model"], "vgg16",
     "cartoonx.evaluations.photos_efficientnet_lite0.model"),
    (["cartoonx", "evaluations", "cars_resnet18", "heatmap_methods"], ["gradcan"],
     "cartoonx.evaluations.cars_resnet18.heatmap_methods"),
    (["cartoonx", "runtime", "model"], "efficientnet_lite0", "cartoonx.runtime.model"),
    (["cartoonx", "sensitivity", "perturbations"], ["gaussian"],
     "cartoonx.sensitivity.perturbations"),  # Fig. 8b's claim compares gaussian and zero
    (["cartoonx", "sensitivity", "wavelets"], ["db3", "sym4"],
     "cartoonx.sensitivity.wavelets"),  # Fig. 8c's claim needs Haar
    (["cartoonx", "sensitivity", "sparsity"], [10], "cartoonx.sensitivity.sparsity"),
    (["cartoonx", "chance_draws"], 0, "cartoonx.chance_draws"),
    (["classifiers", 0, "training"], {"epoch": 3}, "classifiers[0].training.epoch"),
    # overrides are checked as the section they override; numbers must be finite
    (["classifiers", 0, "training"], {"epochs": -3}, "classifiers[0].training.epochs"),
    (["classifiers", 0, "training"], {"batch_size": 0}, "classifiers[0].training.batch_size"),
    (["classifiers", 0, "training"], {"epochs": "ten"}, "classifiers[0].training.epochs"),
    (["classifiers", 0, "training"], {"options": {"bogus": 1}},
     "classifiers[0].training.options.bogus"),
    (["classifiers", 0, "training"], {"learning_rate": float("nan")},
     "classifiers[0].training.learning_rate"),
    (["training", "simple", "weight_decay"], float("inf"), "training.simple.weight_decay"),
    (["training", "simple", "epochs"], 6.0, "training.simple.epochs"),
    (["attribution_evaluation", "metrics", "iou_threshold"], float("nan"),
     "attribution_evaluation.metrics.iou_threshold"),
    (["training", "vit", "options", "dim"], 30, "training.vit.options"),
    (["survey", "methods"], ["saliency", "gradcam"], "survey.methods"),
    (["survey", "methods"], ["saliency", "gradcam", "fem", "no_such_method"], "survey.methods"),
    (["survey", "classifier", "arch"], "simple", "survey.classifier"),
    (["survey", "human_likeness", "observers", "on_object"], 2,
     "survey.human_likeness.observers.on_object"),
    (["survey", "photos", "image_size"], 4, "survey.photos.image_size"),
    (["survey", "photo_agreement", "methods"], ["saliency", "lrp"],
     "survey.photo_agreement.methods"),
    (["survey", "timing", "repeats"], 0, "survey.timing.repeats"),
    (["survey", "human_likeness", "gaze"], {"dataset": "mexculture", "model": "efficientnet_lite0"},
     "datasets.mexculture.root"),  # recorded gaze needs the real dataset
    (["pv", "invariance", "dataset"], "imagenet", "datasets.imagenet.root"),  # real only
    (["survey", "human_likeness", "gaze"], {"dataset": "scenes", "model": "efficientnet_lite0"},
     "survey.human_likeness.gaze.dataset"),
    (["survey", "human_likeness", "gaze"], {"dataset": "mexculture", "model": "vgg16"},
     "survey.human_likeness.gaze.model"),  # vgg16 has no weights in the embedded config
    (["survey", "perturbation", "metrics", "aopc_patch"], 0,
     "survey.perturbation.metrics.aopc_patch"),
    (["pv", "classifier", "arch"], "resnet50", "pv.classifier"),
    (["pv", "classifier", "arch"], "vit", "pv.classifier.arch"),
    (["pv", "classifier", "dataset"], "cars", "pv.classifier.dataset"),
    (["pv", "invariance", "dataset"], "scenes", "pv.invariance.dataset"),
    (["pv", "invariance", "dataset"], "photos", "pv.invariance.dataset"),
    (["pv", "loss_weights", "paper", "dsim"], 0.9, "pv.loss_weights.paper"),
    (["pv", "loss_weights", "paper", "mse"], -0.2, "pv.loss_weights.paper.mse"),
    (["pv", "study", "scores"], "no/such/scores.csv", "pv.study.scores"),
    (["pv", "study", "scores"], "papers/pv/report", "pv.study.scores"),  # a folder, no CSV
    (["course", "cam", "classifier", "arch"], "vgg", "course.cam.classifier.arch"),
    (["course", "vit", "classifier", "seed"], 7, "course.vit.classifier"),
    (["course", "vit", "classifier", "dataset"], "cars", "course.vit.classifier"),
    (["course", "lrp", "classifier", "arch"], "vit", "course.lrp.classifier.arch"),
    (["course", "vit", "median_size"], 4, "course.vit.median_size"),
    (["course", "sanity", "methods"], ["gradient", "magic"], "course.sanity.methods"),
    (["course", "sanity", "method_params"], {"magic": {}}, "course.sanity.method_params"),
    (["course", "localisation", "tolerance"], -1, "course.localisation.tolerance"),
    (["pv", "simulated_respondents", "p_prediction", "pv", "model_wrong"], 1.5,
     "pv.simulated_respondents.p_prediction.pv.model_wrong"),
    (["training", "resnet50", "init_weights"], 5, "training.resnet50.init_weights"),
    (["dxai", "datasets"], ["peppers", "scenes"], "dxai.datasets"),
    (["dxai", "classifier"], "vgg", "dxai.datasets"),
    (["dxai", "cross_classifier", "classifiers"], ["resnet18", "vit"], "dxai.cross_classifier"),
    (["dxai", "pixel_removal", "dataset"], "digits", "dxai.pixel_removal.dataset"),
    (["dxai", "architecture", "stages"], 6, "dxai.datasets"),
    (["dxai", "architecture", "branches"], 1, "dxai.architecture.branches"),
    (["dxai", "ablation", "branches"], 5, "dxai.ablation.branches"),
    (["dxai", "evaluation", "heatmap_methods"], ["gradcam", "magic"],
     "dxai.evaluation.heatmap_methods"),
    (["dxai", "training", "ema"], 1.0, "dxai.training.ema"),
    (["dxai", "stability", "seeds"], [0], "dxai.stability.seeds"),
    (["dxai", "architecture", "stage_blocks"], [4, 4], "dxai.architecture.stage_blocks"),
    (["dxai", "architecture", "skip"], "sum", "dxai.architecture.skip"),
    (["dxai", "method_params"], {"magic": {}}, "dxai.method_params"),
    (["dxai", "evaluation", "heatmap_methods"], ["gradcam"], "dxai.evaluation.heatmap_methods"),
    (["dxai", "evaluation", "classifiers"], ["discriminator"], "dxai.evaluation.classifiers"),
    (["training", "resnet18", "options", "stem"], "vgg", "training.resnet18.options.stem"),
    (["datasets", "peppers", "n_train"], 99999999999999999999, "datasets.peppers.n_train"),
    (["datasets", "peppers", "root"], "", "datasets.peppers.root"),
    (["attribution_evaluation", "method_params"], {"rise": {"bogus": 1}},
     "attribution_evaluation.method_params.rise.bogus"),
    (["attribution_evaluation", "method_params"], {"rise": {"masks": -5}},
     "attribution_evaluation.method_params.rise.masks"),
    (["cartoonx", "method_params", "lime"], {"samples": "many"},
     "cartoonx.method_params.lime.samples"),
    (["dxai", "method_params", "integrated_gradients"], {"baseline": [0.5]},
     "dxai.method_params.integrated_gradients.baseline"),
    (["course", "sanity", "method_params"], {"rise": {"keep": 1.5}},
     "course.sanity.method_params.rise.keep"),
    *[(["downloads"], {"voc": {"url": url, "sha256": "0" * 64}}, "downloads.voc.url")
      for url in ("https://example.org/data/..%2F..%2Fetc%2Fpasswd",  # decodes to a path
                  "https://example.org/data/%2E%2E",  # decodes to ..
                  "https://example.org/data/",  # no file name
                  "https://example.org/voc.tar\r\nX-Injected: 1")],  # a header in the request
]


@pytest.mark.parametrize(("path", "value", "key"), MALFORMED, ids=[m[2] for m in MALFORMED])
def test_malformed_config_names_the_key(path, value, key):
    config = default_config()
    _set(config, path, value)
    with pytest.raises(ConfigError) as caught:
        validate_config(config)
    assert f"config key '{key}'" in str(caught.value)


#: Where docs/reliability.md holds the table of MALFORMED, with the message each case gets.
TABLE_START = "<!-- every malformed configuration the tests try: python tests/test_config.py -->"
TABLE_END = "<!-- end of the generated table -->"


def malformed_rows() -> list[str]:
    """MALFORMED as Markdown rows: the case's number, what it sets, the key its error names
    and the start of that error's line (so the notes show what a user reads)."""
    rows = ["| # | set | to | the error names | and says |", "|---:|---|---|---|---|"]
    for number, (path, value, key) in enumerate(MALFORMED, start=1):
        config = default_config()
        _set(config, path, value)
        with pytest.raises(ConfigError) as caught:
            validate_config(config)
        line = next(line for line in str(caught.value).splitlines()
                    if f"config key '{key}'" in line)
        message = line.split(f"config key '{key}'", 1)[1].lstrip(":").strip()
        message = message.replace(str(REPO), "<project>")
        if len(message) > 100:
            message = message[:99] + "…"
        shown = "(removed)" if value is KeyError else f"`{value!r}`"
        rows.append(f"| {number} | `{'.'.join(map(str, path))}` | {shown} | `{key}` | "
                    f"{message.replace('|', chr(92) + '|') or '(named)'} |")
    return rows


def test_the_reliability_notes_list_every_malformed_configuration_and_its_message():
    notes = (REPO / "docs" / "reliability.md").read_text()
    table = notes.split(TABLE_START)[1].split(TABLE_END)[0].strip()
    assert table == "\n".join(malformed_rows()), \
        "docs/reliability.md is out of date: paste the table `python tests/test_config.py` prints"


@pytest.mark.parametrize(("overlay", "key"), [
    ("training:\n  simple:\n    epochs: many\n", "training.simple.epochs"),
    ("unknown_section: 1\n", "unknown_section"),
    ("datasets:\n  peppers:\n    root: /nonexistent/fruits-360\n", "datasets.peppers.root"),
])
def test_snakemake_rejects_bad_config_before_any_job(pristine_copy, tmp_path, overlay, key):
    bad = tmp_path / "bad.yaml"
    bad.write_text(overlay)
    result = snakemake(["--cores", "1", "--configfile", str(bad)], pristine_copy, check=False)
    assert result.returncode != 0
    assert f"config key '{key}'" in result.stdout + result.stderr
    assert not (pristine_copy / "results").exists()
    assert not (pristine_copy / "resources/data").exists()


def test_snakemake_rejects_a_config_file_that_gives_a_key_twice(pristine_copy, tmp_path):
    bad = tmp_path / "twice.yaml"
    bad.write_text("device: cpu\nimages_per_pass: 8\ndevice: cuda\n")
    result = snakemake(["-n", "--configfile", str(bad)], pristine_copy, check=False)
    assert result.returncode != 0
    problem = f"config file {bad}: key 'device' is given twice (first on line 1)"
    assert problem in result.stdout + result.stderr


@pytest.mark.parametrize(("text", "problem"), [
    ("a: 1\nb:\n  c: 1\n  c: 2\n", "key 'c' is given twice (first on line 3)"),
    ("", "is empty, not a mapping"),
    ("- 1\n- 2\n", "holds a list, not a mapping"),
    ("a: [1,\n", "expected the node content"),
])
def test_a_config_file_that_is_not_a_mapping_of_unique_keys_is_named(tmp_path, text, problem):
    path = tmp_path / "settings.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"config file {path}") as caught:
        load_config_file(path)
    assert problem in str(caught.value)


@pytest.mark.parametrize(("text", "problem"), [
    ("", "is empty, not a mapping"),  # Snakemake: "must be given as JSON or YAML with keys..."
    ("a: [1,\n", "expected the node content"),  # Snakemake: "is not valid JSON or YAML"
])
def test_the_checker_names_a_config_file_that_snakemake_reports_without_its_name(
        tmp_path, capsys, text, problem):
    """Snakemake reads ``--configfile`` before any of the workflow's code runs and names no
    file when one is empty or unparseable; ``python -m papers.config_checks`` does."""
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("images_per_pass: 8\n")
    bad.write_text(text)
    assert check_config_files([str(good), str(bad)]) == 1
    printed = capsys.readouterr()
    assert f"config file {bad}" in printed.err and problem in printed.err
    assert str(good) not in printed.err and "valid" not in printed.out


def test_the_checker_runs_as_a_module_and_reports_what_the_workflow_would(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("training:\n  simple:\n    epochs: 6.0\n")
    result = run([sys.executable, "-m", "papers.config_checks", str(bad)], REPO, check=False)
    assert result.returncode == 1
    assert "config key 'training.simple.epochs': 6.0 is not of type 'integer'" in result.stderr
    result = run([sys.executable, "-m", "papers.config_checks"], REPO)
    assert result.stdout.strip() == "valid: config/config.yaml"


def test_a_repeated_classifier_is_named_with_the_entry_it_repeats():
    config = default_config()
    config["classifiers"].append(dict(config["classifiers"][1]))
    last = len(config["classifiers"]) - 1
    with pytest.raises(ConfigError, match=rf"'classifiers\[{last}\]': repeats classifiers\[1\]"):
        validate_config(config)


def test_study_scores_outside_the_project_are_refused(tmp_path):
    scores = tmp_path / "scores.csv"
    scores.write_text("participant,condition,score\n1,pv,3\n")
    config = default_config()
    config["pv"]["study"]["scores"] = str(scores)
    with pytest.raises(ConfigError, match="'pv.study.scores': .* lies outside the project"):
        validate_config(config)


def test_a_yaml_bomb_is_refused_before_it_is_expanded():
    levels = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    config = default_config()
    config["attribution_evaluation"]["method_params"]["rise"] = yaml.safe_load("\n".join(levels))
    with pytest.raises(ConfigError, match="expands to more than 100000 values"):
        validate_config(config)


def test_paths_are_checked_against_the_disk_before_the_first_job(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = default_config()
    config["datasets"]["peppers"]["root"] = "fruits"
    config["training"]["resnet50"]["init_weights"] = "weights/resnet50.pth"
    assert path_errors(config) == [
        "config key 'datasets.peppers.root': dataset root fruits is not a directory",
        "config key 'training.resnet50.init_weights': weight file weights/resnet50.pth does "
        "not exist"]
    (tmp_path / "fruits" / "Training").mkdir(parents=True)
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "resnet50.pth").write_bytes(b"")
    assert path_errors(config) == [
        "config key 'datasets.peppers.root': fruits lacks Test (the layout fruits360 reads: "
        "Training, Test)"]
    (tmp_path / "fruits" / "Test").mkdir()
    assert path_errors(config) == []


def test_paths_a_download_rule_produces_are_not_required_before_the_run():
    config = merged(default_config(), yaml.safe_load((REPO / "config/paper.yaml").read_text()))
    assert not [error for error in path_errors(config) if "resources/sources" in error
                or "resources/downloads" in error]


def test_a_classifier_entry_overrides_its_architectures_training_settings():
    config = default_config()
    config["classifiers"].append({"dataset": "tumor", "arch": "vgg", "seeds": [0],
                                  "training": {"epochs": 3, "options": {"base_width": 4}}})
    validate_config(config)
    vgg = config["training"]["vgg"]
    assert training_settings(config, "tumor", "vgg") == {
        **vgg, "epochs": 3, "options": {**vgg["options"], "base_width": 4}}
    assert training_settings(config, "scenes", "vgg") == vgg
    paper = merged(default_config(), yaml.safe_load((REPO / "config/paper.yaml").read_text()))
    assert training_settings(paper, "tumor", "resnet18") == paper["training"]["resnet18"]


def test_a_folder_of_scores_files_is_a_study_source():
    """pv.study.scores may name the folder the survey pages' downloads are collected in."""
    config = default_config()
    config["pv"]["study"]["scores"] = "papers/pv/data"  # holds participant_scores.csv
    validate_config(config)


def test_dxai_may_not_ask_a_test_split_for_more_images_than_it_holds():
    """The 50 shipped faces cannot give DXAI's 200 evaluation images: stopped before any job,
    naming the count's key and the split's, not cut to 50 in silence."""
    config = default_config()
    config["dxai"]["evaluation"]["images_per_dataset"] = {}
    with pytest.raises(ConfigError, match=r"'dxai.evaluation.images': 200 test images asked of "
                                          r"faces, whose test split holds 50 "
                                          r"\(datasets.faces.n_test\)"):
        validate_config(config)
    config["dxai"]["evaluation"]["images_per_dataset"] = {"faces": 51}
    with pytest.raises(ConfigError, match="'dxai.evaluation.images_per_dataset.faces': 51"):
        validate_config(config)
    config["datasets"]["faces"]["root"] = "resources/celeba"  # a real split: checked on loading
    validate_config(config)


if __name__ == "__main__":
    print("\n".join(malformed_rows()))
