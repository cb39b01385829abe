"""The survey's artifacts of the tiny run: every figure, tables derived from their own scores."""

import math

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
        pd.testing.assert_series_equal(table[f"{metric}_images"], values.count(),
                                       check_names=False, check_dtype=False)
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
    chosen = yaml.safe_load((results.parents[1] / "tests/tiny.yaml").read_text())["survey"]
    scores = pd.read_csv(results / "photo_agreement_scores.csv")
    matrix = pd.read_csv(results / "photo_agreement.csv").set_index(["method_a", "method_b"])
    methods = chosen["photo_agreement"]["methods"]
    assert set(scores["photo"]) == set(chosen["photo_agreement"]["images"])
    assert len(matrix) == len(methods) ** 2
    means = scores.groupby(["method_a", "method_b"])["pcc"].mean().round(4)
    pd.testing.assert_series_equal(matrix["pcc_mean"].sort_index(), means.sort_index(),
                                   check_names=False, atol=1e-4)
    for first in methods:  # a method whose maps are all constant agrees with none (NaN)
        itself = matrix.loc[(first, first), "pcc_mean"]
        assert itself == pytest.approx(1) or math.isnan(itself)
        for second in methods:
            assert matrix.loc[(first, second), "pcc_mean"] == pytest.approx(
                matrix.loc[(second, first), "pcc_mean"], nan_ok=True)


def test_photo_agreement_matches_maps_recomputed_for_the_top_class(survey):
    """An independent recomputation of one pair: the photos, the classifier's top-1 class,
    each method's map and their PCC, photo by photo. (At the tiny run's 32 px Grad-CAM
    reads a 1 x 1 feature map: its maps are constant and agree with nothing, so the pair is
    two pixel-level maps.)"""
    from common.explain import explain
    from common.metrics.comparison import pcc
    from common.metrics.sanity import absolute_map
    from papers.survey.photos import photos_and_model

    results, base = survey
    tiny = yaml.safe_load((results.parents[1] / "tests/tiny.yaml").read_text())["survey"]
    photos = {**base["photos"], **tiny["photos"], "images": tiny["photo_agreement"]["images"]}
    x, names, model, predicted = photos_and_model(
        str(results.parents[1] / "resources/data/photos/manifest.json"), photos, "cpu")
    first, second = (absolute_map(explain(model, x, predicted, method))
                     for method in ("saliency", "guided_backprop"))
    scores = pd.read_csv(results / "photo_agreement_scores.csv")
    pair = scores[(scores["method_a"] == "saliency")
                  & (scores["method_b"] == "guided_backprop")]
    assert pair.set_index("photo").loc[names, "pcc"].tolist() == pytest.approx(
        pcc(first, second).tolist(), abs=1e-5)


def test_timing_times_every_method_over_the_repeats(survey):
    results, settings = survey
    timing = pd.read_csv(results / "timing.csv").set_index("method")
    assert set(timing.index) == set(settings["methods"])
    assert (timing["repeats"] == 2).all() and (timing["device"] == "cpu").all()
    assert (timing["images"] == 2).all() and (timing["ms_per_image_min"] > 0).all()


def test_claims_say_whether_each_holds_here_and_in_print(survey):
    results, _ = survey
    claims = pd.read_csv(results / "claims.csv")
    assert len(claims) == 7 and claims["holds"].dtype == bool
    assert claims["measured"].str.len().gt(0).all()
    gaze_rows = claims[claims["source"] == "Table 1"]
    assert len(gaze_rows) == 4  # the tiny run has no recorded gaze: every row says so
    assert gaze_rows["measured"].str.startswith("vs SIMULATED OBSERVERS, not recorded gaze").all()
    printed = gaze_rows.set_index("claim")["paper_value"].str.extract(r"\((its [^)]*)\)$")[0]
    assert printed.to_dict() == {  # whether the survey's own Table 1 bears out its words
        "FEM has the highest SIM with the gaze maps": "its Table 1 agrees",
        "Grad-CAM has the highest PCC with the gaze maps": "its Table 1 agrees",
        "Integrated Gradients and SmoothGrad improve SIM over plain gradients":
            "its Table 1 agrees",
        "Integrated Gradients and SmoothGrad improve PCC over plain gradients":
            "its own Table 1 contradicts this"}
