"""The course's claims (papers/course/claims.py) on tables fabricated with known answers:
each criterion holds where it must, fails where it must, and a missing value leaves its
claim "not measured"."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from common.claims import COLUMNS, claims_table
from common.scorecard import FAILS, HOLDS, NOT_MEASURED, gather
from papers.course.claims import (
    all_claims,
    better_localised,
    cam_claims,
    limits_claims,
    linear_claims,
    lrp_claims,
    vit_claims,
)

SCORES = ["pointing_game", "energy_pointing_game", "iou", "auc"]
CONFIG = {"scale": "embedded", "datasets": {name: {"root": None}
                                            for name in ("digits", "faces", "scenes")}}


def by_claim(rows: list[dict], words: str) -> dict:
    [row] = [row for row in rows if words in row["claim"]]
    return row


def linear(opposing_positive=1.0, negative=0.0, pearson=(0.5, 1.0)) -> pd.DataFrame:
    return pd.DataFrame({"decomposition": ["proportional", "contribution"], "images": [10, 10],
                         "conservation_error": [1e-6, 1e-6],
                         "pearson_with_removal_effect": list(pearson),
                         "negative_share": [negative, 0.4],
                         "opposing_features_positive": [opposing_positive, 0.1]})


def rules(top10=(0.5, 0.55, 0.6), negative=(0.3, 0.2, 0.1), gap=1e-7) -> pd.DataFrame:
    """LRP-0, two epsilons (listed out of order) and two gammas."""
    names = ["LRP-0", "LRP-eps 1", "LRP-eps 0.25", "LRP-gamma 0.25", "LRP-gamma 1"]
    return pd.DataFrame({"rule": names, "images": 6,
                         "negative_share": [negative[0], 0.3, 0.3, negative[1], negative[2]],
                         "top10_share": [top10[0], top10[2], top10[1], 0.5, 0.5],
                         "lrp0_vs_gradient_x_input": gap})


def conservation(at_input=1.0) -> pd.DataFrame:
    rows = [{"rule": rule, "bias_in_rule": bias, "layer": layer,
             "median_sum_over_logit": at_input if layer == "input" and not bias else
             (0.9 if bias else 1.0), "max_abs_deviation_from_1": 0.0}
            for rule in ("LRP-0", "LRP-eps 1") for bias in (True, False)
            for layer in ("features", "classifier", "input")]
    return pd.DataFrame(rows)


def localisation(key: str, scores: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{key: name, "images": 10, **dict(zip(SCORES, values, strict=True))}
                         for name, values in scores.items()])


def limits(object_gradient=1e-5, spurious_gradient=0.99, object_flips=True,
           spurious_score=2.99) -> pd.DataFrame:
    return pd.DataFrame({
        "region": ["object patch", "spurious pixel", "rest of the background"],
        "pixels": [64, 1, 959], "score": 3.0,
        "score_without_region": [-3.0, spurious_score, 3.0],
        "prediction_flips": [object_flips, False, False],
        "gradient_share": [object_gradient, spurious_gradient, 0.0],
        "occlusion_share": [0.99, 0.0, 0.01]})


def sanity(first_stage: dict[str, float]) -> pd.DataFrame:
    rows = []
    for method, spearman in first_stage.items():
        rows += [{"method": method, "randomised_down_to": "(trained)", "stages": 0,
                  "spearman": np.nan},
                 {"method": method, "randomised_down_to": "fc", "stages": 1,
                  "spearman": spearman},
                 {"method": method, "randomised_down_to": "stem", "stages": 2,
                  "spearman": 0.05}]
    return pd.DataFrame(rows)


def decomposition(error=1e-6) -> pd.DataFrame:
    return pd.DataFrame({"term": ["attention heads (sum over l, h, i)", "logit"],
                         "mean_abs": [2.9, 3.4], "mean": [2.8, 3.3],
                         "max_identity_error": error})


VIT = localisation("map", {"TextSpan": [0.6, 0.25, 0.18, 0.9],
                           "TextSpan, registers removed": [0.7, 0.3, 0.17, 0.8],
                           "CHILI object": [0.3, 0.14, 0.11, 0.76],
                           "CHILI context": [0.3, 0.13, 0.10, 0.74],
                           "random (baseline)": [0.05, 0.04, 0.04, 0.5]})


def test_the_linear_counterexample_holds_only_when_every_opposing_feature_is_positive():
    rows = linear_claims(linear())
    assert [row["holds"] for row in rows] == [True, True]
    assert "100.0% of opposing features positive" in rows[0]["measured"]
    assert linear_claims(linear(opposing_positive=0.5))[0]["holds"] is False
    assert linear_claims(linear(negative=0.01))[0]["holds"] is False
    # the contribution-based decomposition must follow the removal effect more closely
    assert linear_claims(linear(pearson=(0.9, 0.8)))[1]["holds"] is False


def test_lrp_rules_effects_are_judged_in_order_of_the_parameter():
    rows = lrp_claims(rules(), conservation())
    epsilon, gamma = by_claim(rows, "epsilon"), by_claim(rows, "gamma")
    assert epsilon["holds"] is True and gamma["holds"] is True
    # the rows are ordered by epsilon, not by the table: 0.25 before 1
    assert epsilon["measured"].index("LRP-eps 0.25") < epsilon["measured"].index("LRP-eps 1")
    rows = lrp_claims(rules(top10=(0.5, 0.6, 0.55), negative=(0.3, 0.35, 0.1)), conservation())
    assert by_claim(rows, "epsilon")["holds"] is False
    assert by_claim(rows, "gamma")["holds"] is False


def test_lrp_zero_and_conservation_criteria():
    rows = lrp_claims(rules(), conservation())
    assert by_claim(rows, "gradient x input")["holds"] is True
    assert by_claim(rows, "conserves")["holds"] is True
    rows = lrp_claims(rules(gap=0.02), conservation(at_input=0.5))
    assert by_claim(rows, "gradient x input")["holds"] is False
    conserves = by_claim(rows, "conserves")
    assert conserves["holds"] is False and "input 0.500 (biases out of the rule)" in \
        conserves["measured"]


def test_a_missing_rule_or_column_leaves_the_claim_not_measured():
    only_zero = rules().iloc[[0]]
    rows = lrp_claims(only_zero, conservation().drop(columns="bias_in_rule"))
    for words in ("epsilon", "gamma", "conserves"):
        row = by_claim(rows, words)
        assert row["holds"] is None and row["measured"].startswith("not measured"), row
    assert by_claim(rows, "gradient x input")["holds"] is True


def test_localisation_holds_on_three_of_four_scores_and_a_nan_is_not_measured():
    cam = localisation("method", {"Grad-CAM": [0.7, 0.10, 0.12, 0.91],
                                  "Grad-CAM++": [0.6, 0.11, 0.14, 0.92],
                                  "random (baseline)": [0.05, 0.04, 0.04, 0.5]})
    [row] = cam_claims(cam)
    assert row["holds"] is True and "higher on 3 of 4" in row["measured"]
    assert "random: 0.050" in row["measured"]
    worse = cam.copy()
    worse.loc[1, "auc"] = 0.90
    assert cam_claims(worse)[0]["holds"] is False
    constant = cam.copy()
    constant.loc[0, "iou"] = np.nan  # a constant Grad-CAM map has no IoU
    [row] = cam_claims(constant)
    assert row["holds"] is None and row["measured"] == "not measured: iou of 'Grad-CAM' missing"
    _, holds = better_localised(cam, "method", "Grad-CAM", "Grad-CAM")  # ties never win
    assert holds is False


def test_vit_claims():
    rows = vit_claims(decomposition(), VIT)
    assert by_claim(rows, "sum of the layer")["holds"] is True
    assert by_claim(rows, "pseudo-registers")["holds"] is False  # 2 of 4 is not most
    assert by_claim(rows, "object part")["holds"] is True
    assert by_claim(rows, "raw TextSpan")["holds"] is False
    assert vit_claims(decomposition(error=0.01), VIT)[0]["holds"] is False


def test_limits_claims():
    rows = limits_claims(limits(), sanity({"gradient": 0.2, "guided_backprop": 0.9}))
    assert [row["holds"] for row in rows] == [True, True, True]
    assert "most similar: guided_backprop" in rows[2]["measured"]
    # a gradient share above the patch's share of the pixels (64/1024) is not "almost none"
    assert limits_claims(limits(object_gradient=0.1), sanity({"g": 0.9}))[0]["holds"] is False
    assert limits_claims(limits(object_flips=False), sanity({"g": 0.9}))[0]["holds"] is False
    # removing the spurious pixel moves the score by a third: it was relevant after all
    assert limits_claims(limits(spurious_score=2.0), sanity({"g": 0.9}))[1]["holds"] is False
    assert limits_claims(limits(spurious_gradient=0.0), sanity({"g": 0.9}))[1]["holds"] is False
    assert limits_claims(limits(), sanity({"gradient": 0.2, "gradcam": 0.49}))[2]["holds"] \
        is False
    # a constant map (NaN correlation) blocks no verdict another method gives ...
    assert limits_claims(limits(), sanity({"gradient": 0.7, "gradcam": np.nan}))[2]["holds"] \
        is True
    # ... but leaves it open when no other method is similar
    row = limits_claims(limits(), sanity({"gradient": 0.2, "gradcam": np.nan}))[2]
    assert row["holds"] is None and row["measured"] == "not measured: spearman of 'gradcam' " \
        "missing"
    no_first_stage = sanity({"gradient": 0.9})
    no_first_stage = no_first_stage[no_first_stage["stages"] != 1]
    row = limits_claims(limits(), no_first_stage)[2]
    assert row["holds"] is None and row["measured"].startswith("not measured")


def rule_inputs() -> dict[str, str]:
    """The course_claims rule's inputs by key, read from papers/course/rules.smk."""
    text = (REPO / "papers/course/rules.smk").read_text()
    block = text.split("rule course_claims:", 1)[1].split("output:", 1)[0]
    return dict(re.findall(r"(\w+)=\"([^\"]+)\"", block))


def test_every_claim_names_rule_inputs_and_the_scorecard_counts_it(tmp_path):
    """All claims through the common schema with the rule's own inputs (an unknown key is an
    error), written and gathered as the scorecard gathers them."""
    tables = {"linear": linear(), "conservation": conservation(at_input=0.5), "rules": rules(),
              "cam": localisation("method", {"Grad-CAM": [0.7, 0.1, 0.1, 0.9],
                                             "Grad-CAM++": [0.7, np.nan, 0.1, 0.9]}),
              "vit_decomposition": decomposition(), "vit_localisation": VIT,
              "limits": limits(), "sanity": sanity({"gradient": 0.9})}
    rows = all_claims(tables, lrp_dataset="faces")
    table = claims_table(rows, "course", CONFIG, rule_inputs(), ["scenes"])
    assert list(table.columns) == list(COLUMNS) and (table["work"] == "course").all()
    assert table["paper_value"].str.len().gt(0).all()
    assert set(table["output"]) <= set(rule_inputs().values())
    assert all(path.endswith(".png") for path in table["figure"].dropna())
    data = dict(zip(table["claim"], table["data"], strict=True))
    assert data["LRP-0 equals gradient x input"] == "shipped real images (faces)"
    assert data["Grad-CAM++ localises objects better than Grad-CAM"] == \
        "generated images (scenes)"
    assert "built to saturate" in data["a pixel with a high gradient can be irrelevant to "
                                       "the prediction"]
    path = tmp_path / "claims.csv"
    table.to_csv(path, index=False)
    verdicts = gather([path]).set_index("claim")["verdict"]
    assert verdicts["Grad-CAM++ localises objects better than Grad-CAM"] == NOT_MEASURED
    assert verdicts["LRP-0 conserves the relevance from the logit down to the pixels"] == FAILS
    assert verdicts["LRP-0 equals gradient x input"] == HOLDS


def test_the_claims_script_runs_by_hand_or_under_snakemake():
    script = (REPO / "papers/course/scripts/claims.py").read_text()
    assert script.rstrip().endswith('if __name__ == "__main__":\n    main(snakemake_object())')
    assert "from common.entry import snakemake_object" in script


@pytest.mark.parametrize("key", ["course_claims", "scorecard"])
def test_the_slurm_profile_groups_the_course_claims_with_the_others(key):
    import yaml

    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    assert profile["groups"][key] == "claims"
