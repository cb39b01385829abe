"""The CartoonX artifacts of the tiny run: identities the curves must obey, complete tables."""

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def cartoonx(tiny_run):
    settings = yaml.safe_load((tiny_run / "tests/tiny.yaml").read_text())["cartoonx"]
    return tiny_run / "results/cartoonx", settings


def test_every_figure_is_written(cartoonx):
    results, settings = cartoonx
    figures = ["figure5", "figure8", "figure7c_cars_resnet18",
               *(f"figure7ab_{name}" for name in settings["evaluations"])]
    for name in figures:
        for suffix in (".pdf", ".png"):
            assert (results / f"{name}{suffix}").stat().st_size > 1000, name


def test_keeping_everything_or_randomising_nothing_leaves_the_output_unchanged(cartoonx):
    """At these ends of Fig. 7a/b the obfuscation is the image itself (up to the DWT's
    round-off), whatever the ranking, so the softmax distortion is zero for every method."""
    results, settings = cartoonx
    for name in settings["evaluations"]:
        curves = pd.read_csv(results / f"rate_distortion_{name}.csv")
        ends = curves[((curves["curve"] == "keep") & (curves["fraction"] == 1.0))
                      | ((curves["curve"] == "randomise") & (curves["fraction"] == 0.0))]
        assert len(ends) == 2 * curves["method"].nunique()
        assert (ends["mean"].abs() < 1e-4).all(), ends
        assert {"cartoonx", "pixel_rde", "random (wavelet)", "random (pixels)"} <= set(
            curves["method"])


def test_claims_cover_every_evaluation_and_say_whether_they_hold(cartoonx):
    results, settings = cartoonx
    claims = pd.read_csv(results / "claims.csv")
    figures = claims.groupby("figure")["evaluation"].apply(set)
    assert figures["7a"] == figures["7b"] == set(settings["evaluations"])
    assert (claims["figure"] == "7c").sum() == 2 and (claims["figure"] == "8a").sum() == 2
    assert claims["holds"].dtype == bool and claims["measured"].str.len().gt(0).all()


def test_runtime_times_every_method_at_every_batch_size(cartoonx):
    results, settings = cartoonx
    runtime = pd.read_csv(results / "runtime.csv")
    expected = {(method, batch) for method in ("cartoonx", "pixel_rde", "integrated_gradients")
                for batch in settings["runtime"]["batch_sizes"]}
    assert set(zip(runtime["method"], runtime["batch"], strict=True)) == expected
    assert (runtime["seconds_per_explanation"] > 0).all()
    assert set(runtime["paper_seconds"]) == {45.10, 34.09, 0.48}


def test_sensitivity_has_one_row_per_variant_and_image(cartoonx):
    results, settings = cartoonx
    scores = pd.read_csv(results / "sensitivity.csv")
    sensitivity = settings["sensitivity"]
    variants = (2 * len(sensitivity["sparsity"]) + len(sensitivity["wavelets"])
                + len(sensitivity["perturbations"])
                + len(sensitivity["distortions"]))
    assert len(scores) == variants * len(sensitivity["images"])
    assert scores["normalised_l1"].between(0, 1).all()
