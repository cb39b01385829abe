"""The survey's artifacts of the tiny run: every figure, tables derived from their own scores."""

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def survey(tiny_run):
    base = yaml.safe_load((tiny_run / "config/config.yaml").read_text())["survey"]
    return tiny_run / "results/survey", base


def test_every_figure_is_written(survey):
    results, _ = survey
    for number in (6, 7, 8, 10, 11):
        for suffix in (".pdf", ".png"):
            assert (results / f"figure{number}{suffix}").stat().st_size > 1000, number


def test_table1_is_the_summary_of_its_own_per_image_scores(survey):
    results, settings = survey
    table = pd.read_csv(results / "table1.csv").set_index("method")
    scores = pd.read_csv(results / "table1_scores.csv")
    assert set(table.index) == set(settings["methods"]) == set(scores["method"])
    assert (table["reference"] == "simulated observers").all()
    for metric in ("sim", "pcc"):
        values = scores[scores["metric"] == metric].groupby("method")["score"]
        pd.testing.assert_series_equal(table[f"{metric}_mean"], values.mean().round(4),
                                       check_names=False, atol=1e-4)
        pd.testing.assert_series_equal(table[f"{metric}_std"], values.std().round(4),
                                       check_names=False, atol=1e-4)
    assert table["sim_mean"].between(0, 1).all() and table["pcc_mean"].between(-1, 1).all()
    assert table["paper_sim_mean"].notna().sum() == 8  # the survey's eight Table 1 methods


def test_perturbation_and_sanity_tables_cover_the_survey_methods(survey):
    results, settings = survey
    summary = pd.read_csv(results / "perturbation.csv")
    aopc = summary[summary["metric"] == "aopc"]
    assert set(aopc["method"]) == set(settings["methods"])
    assert (summary["seconds_per_image"] > 0).all()
    sanity = pd.read_csv(results / "sanity.csv")
    assert set(sanity["method"]) == set(settings["methods"])
    assert set(sanity["test"]) == {"cascading", "independent", "labels"}


def test_photo_agreement_is_the_mean_of_its_per_photo_scores(survey):
    results, _ = survey
    settings = yaml.safe_load((results.parents[1] / "tests/tiny.yaml").read_text())
    chosen = settings["survey"]["photo_agreement"]
    scores = pd.read_csv(results / "photo_agreement_scores.csv")
    matrix = pd.read_csv(results / "photo_agreement.csv")
    assert set(scores["photo"]) == set(chosen["images"])
    assert len(matrix) == len(chosen["methods"]) ** 2
    means = scores.groupby(["method_a", "method_b"])["pcc"].mean().round(4)
    merged = matrix.set_index(["method_a", "method_b"])["pcc_mean"]
    pd.testing.assert_series_equal(merged.sort_index(), means.sort_index(), check_names=False,
                                   atol=1e-4)
    diagonal = matrix[matrix["method_a"] == matrix["method_b"]]
    assert diagonal["pcc_mean"].round(4).eq(1).all()
    assert (results / "photo_agreement.png").stat().st_size > 1000


def test_timing_times_every_method_over_the_repeats(survey):
    results, settings = survey
    timing = pd.read_csv(results / "timing.csv").set_index("method")
    assert set(timing.index) == set(settings["methods"])
    assert (timing["repeats"] == 2).all() and (timing["device"] == "cpu").all()
    assert (timing["ms_per_image_min"] > 0).all()
    assert ((timing["ms_per_image_min"] <= timing["ms_per_image_median"])
            & (timing["ms_per_image_median"] <= timing["ms_per_image_max"])).all()


def test_claims_say_whether_each_holds_here_and_in_print(survey):
    results, _ = survey
    claims = pd.read_csv(results / "claims.csv")
    assert len(claims) == 7 and claims["holds"].dtype == bool
    assert claims["measured"].str.len().gt(0).all()
    printed = claims.dropna(subset=["paper_table"]).set_index("claim")["paper_table"]
    assert printed.to_dict() == {
        "FEM has the highest SIM with the gaze maps": True,
        "Grad-CAM has the highest PCC with the gaze maps": True,
        "Integrated Gradients and SmoothGrad improve SIM over plain gradients": True,
        "Integrated Gradients and SmoothGrad improve PCC over plain gradients": False}
