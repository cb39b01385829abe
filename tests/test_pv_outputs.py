"""PV's artifacts of the tiny run: tables computed from what the workflow made, pages, claims."""

import json

import pandas as pd
import pytest
import torch
import yaml

from papers.pv.study import PAPER_ACCURACY

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def pv(tiny_run):
    base = yaml.safe_load((tiny_run / "config/config.yaml").read_text())["pv"]
    return tiny_run / "results/pv", base


def test_every_figure_is_written(pv):
    results, _ = pv
    for name in ("examples", "reconstructions", "invariance", "figure6", "simulated/figure6"):
        for suffix in (".pdf", ".png"):
            assert (results / f"{name}{suffix}").stat().st_size > 1000, name


def test_reconstruction_table_has_one_row_per_decoder(pv):
    results, settings = pv
    table = pd.read_csv(results / "reconstruction.csv").set_index("decoder")
    assert list(table.index) == list(settings["loss_weights"])
    for variant, weights in settings["loss_weights"].items():
        for name, value in weights.items():
            assert table.loc[variant, f"alpha_{name}"] == pytest.approx(value)
    assert table["ssim_mean"].between(-1, 1).all() and (table["mse_mean"] > 0).all()
    assert (table["dsim_mean"] >= 0).all()


def test_each_decoder_inverts_the_classifiers_encoder_on_its_dataset(pv):
    results, settings = pv
    for path, dataset in [(results / "decoders/paper.pt", settings["classifier"]["dataset"]),
                          (results / "invariance/decoder.pt", settings["invariance"]["dataset"])]:
        saved = torch.load(path, weights_only=True)
        assert saved["dataset"] == dataset
        assert len(saved["history"]) == 1  # tiny.yaml: one epoch


def test_real_study_tables_reproduce_the_paper_and_simulated_ones_say_so(pv):
    results, _ = pv
    table = pd.read_csv(results / "table1.csv")
    assert (table["data"] == "real participants").all()
    for row in table.itertuples():
        assert round(row.accuracy, 3) == pytest.approx(PAPER_ACCURACY[row.arm, row.case][0])
    simulated = pd.read_csv(results / "simulated/scores.csv")
    assert simulated["participant"].str.startswith("simulated-").all()
    for name in ("table1.csv", "tests.csv"):
        assert (pd.read_csv(results / "simulated" / name)["data"] == "SIMULATED respondents").all()


def test_survey_pages_carry_the_same_questions_and_options(pv):
    results, _ = pv
    questions = json.loads((results / "survey/questions.json").read_text())
    assert questions, "the kit selected no question"
    pages = {arm: (results / f"survey/{arm}.html").read_text() for arm in ("gradcam", "pv")}
    for arm, page in pages.items():
        payload = json.loads(page.split('<script id="payload" type="application/json">')[1]
                             .split("</script>")[0].replace("<\\/", "</"))
        assert payload["arm"] == arm
        assert [q["options"] for q in payload["questions"]] == [q["options"] for q in questions]
        assert "{{" not in page


def test_claims_are_derived_from_the_tables(pv):
    results, settings = pv
    claims = pd.read_csv(results / "claims.csv")
    tests = pd.read_csv(results / "tests.csv").set_index("case")
    invariance = pd.read_csv(results / "invariance.csv").set_index("pair")
    assert len(claims) == 3
    assert claims["holds"].iloc[:2].tolist() == [True, True]  # the real study: p ~ 1e-12
    assert f"U = {tests.loc['model_wrong', 'u']:g}" in claims["measured"].iloc[0]
    p_matched = invariance.loc["A vs B", "p_matched"]
    assert claims["holds"].iloc[2] == (p_matched < settings["study"]["alpha"])
    assert claims["evidence"].iloc[2].startswith(
        f"decoder B trained on {invariance['decoder_b_data'].iloc[0]}, ")
    study_data = pd.read_csv(results / "table1.csv")["data"].iloc[0]  # real participants
    assert claims["data"].iloc[:2].tolist() == [study_data] * 2
    assert claims["output"].tolist() == ["results/pv/tests.csv"] * 2 + ["results/pv/invariance.csv"]


def test_the_invariance_table_says_which_images_each_decoder_saw(pv):
    """The tiny run's decoder B trains on generated cars, not the paper's ImageNet images."""
    results, settings = pv
    invariance = pd.read_csv(results / "invariance.csv")
    assert list(invariance.columns[:2]) == ["decoder_a_data", "decoder_b_data"]
    assert (invariance["decoder_b_data"] == "cars: GENERATED images (NOT the paper's data: "
                                           "ImageNet, 8000 images)").all()
    assert (invariance["decoder_a_data"].str.startswith(
        f"{settings['classifier']['dataset']}: GENERATED images")).all()
