"""The course's artifacts of the tiny run: every table computed, identities held in them."""

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.workflow

LOCALISATION = ["pointing_game", "energy_pointing_game", "iou", "auc"]


@pytest.fixture(scope="module")
def course(tiny_run):
    return tiny_run / "results/course"


def test_every_figure_is_written(course):
    for name in ("classical_photos", "lrp_rules", "cam", "vit_heads", "vit_maps", "limits",
                 "sanity"):
        for suffix in (".pdf", ".png"):
            assert (course / f"{name}{suffix}").stat().st_size > 1000, name


@pytest.mark.parametrize(("table", "column", "rows"), [
    ("classical_localisation.csv", "model",
     ["centre-surround", "Itti-Koch", "spectral residual", "region contrast", "MST distance",
      "local entropy", "region contrast, D_s squared (authors' code)", "centre bias (baseline)",
      "random (baseline)"]),
    ("cam_localisation.csv", "method",
     ["CAM", "Grad-CAM", "Grad-CAM++", "EigenGrad-CAM", "random (baseline)"]),
    ("vit_localisation.csv", "map",
     ["TextSpan", "TextSpan, registers removed", "CHILI object", "CHILI context", "LeGrad",
      "random (baseline)"]),
])
def test_localisation_tables_score_every_map(course, table, column, rows):
    """Scores lie in [0, 1]; NaN only where a map is constant on every image (an untrained
    tiny network's Grad-CAM can be all zero), never for the noise baseline."""
    frame = pd.read_csv(course / table).set_index(column)
    assert list(frame.index) == rows
    scores = frame[LOCALISATION].to_numpy()
    assert ((scores >= 0) & (scores <= 1) | np.isnan(scores)).all()
    assert frame.loc["random (baseline)", LOCALISATION].notna().all()


def test_the_textspan_decomposition_sums_to_the_logit_in_the_run(course):
    frame = pd.read_csv(course / "vit_decomposition.csv").set_index("term")
    assert frame["max_identity_error"].max() < 1e-4
    terms = frame.drop(index="logit")["mean"].sum()
    assert terms == pytest.approx(frame.loc["logit", "mean"], abs=1e-4)


def test_lrp_tables_hold_the_identities(course):
    linear = pd.read_csv(course / "lrp_linear.csv").set_index("decomposition")
    assert (linear["conservation_error"] < 1e-3).all()
    assert linear.loc["contribution", "pearson_with_removal_effect"] == pytest.approx(1, abs=1e-5)
    assert linear.loc["proportional", "pearson_with_removal_effect"] < 0.99
    rules = pd.read_csv(course / "lrp_rules.csv")
    assert (rules["lrp0_vs_gradient_x_input"] < 1e-4).all()
    conservation = pd.read_csv(course / "lrp_conservation.csv")
    assert set(conservation["layer"]) == {"features", "classifier", "input"}


def test_limits_table_shows_both_failures(course):
    limits = pd.read_csv(course / "limits.csv").set_index("region")
    assert limits.loc["object patch", "prediction_flips"]
    assert limits.loc["spurious pixel", "gradient_share"] > 0.99
    sanity = pd.read_csv(course / "sanity.csv")
    assert set(sanity["method"]) == {"gradient", "gradcam"}
    assert sanity.groupby("method")["stages"].max().gt(1).all()
