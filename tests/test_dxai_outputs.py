"""DXAI's artifacts of the tiny run: every target written, and each table computed from the
files the workflow made (recomputed here from those files, never typed in)."""

import numpy as np
import pandas as pd
import pytest
import torch

pytestmark = pytest.mark.workflow

DATASETS = ["tumor"]  # tests/tiny.yaml


@pytest.fixture(scope="module")
def dxai(tiny_run):
    return tiny_run / "results/dxai"


def _normalised_auc(accuracy, grid, per_unit_range: bool = True) -> float:
    return float(np.trapezoid(accuracy, grid) / accuracy[0]
                 / (max(grid) if per_unit_range else 1))


def test_every_figure_is_written(dxai):
    for name in ("figure9", "ablation", "naive", *(f"grid_{d}" for d in DATASETS)):
        for suffix in (".pdf", ".png"):
            assert (dxai / f"{name}{suffix}").stat().st_size > 1000, name


def test_table1_is_the_area_under_the_workflows_beta_curves(dxai):
    """One block per classifier (tests/tiny.yaml: the explained resnet18 and the DXAI
    discriminator; none of the tiny methods is refused by the discriminator)."""
    table = pd.read_csv(dxai / "table1.csv").set_index(["classifier", "method"])
    assert list(table.columns) == DATASETS
    methods = ["DXAI", "integrated_gradients", "gradcam", "random"]
    assert list(table.index) == [(classifier, method) for classifier in
                                 ("resnet18", "discriminator") for method in methods]
    for dataset in DATASETS:
        curves = pd.read_csv(dxai / "beta_curves" / f"{dataset}.csv")
        for key, rows in curves.groupby(["classifier", "method"]):
            expected = _normalised_auc(rows["accuracy"].to_numpy(), rows["beta"].to_numpy())
            assert table.loc[key, dataset] == pytest.approx(expected, rel=1e-6)


def test_beta_curves_hold_probability_distributions(dxai):
    curves = pd.read_csv(dxai / "beta_curves" / "tumor.csv")
    for true in ("healthy", "tumor"):
        total = sum(curves[f"p({name} | {true})"] for name in ("healthy", "tumor"))
        assert np.allclose(total, 1, atol=1e-5)


def test_table2_is_the_area_under_its_own_accuracy_columns(dxai):
    table = pd.read_csv(dxai / "table2.csv").set_index("method")
    fractions = [float(c.split("@")[1]) for c in table.columns if c.startswith("accuracy@")]
    assert fractions == [0.0, 0.05, 0.1, 0.15, 0.2]
    for _, row in table.iterrows():
        accuracy = row[[c for c in table.columns if c.startswith("accuracy@")]].to_numpy(float)
        assert row["auc"] == pytest.approx(_normalised_auc(accuracy, fractions, False), rel=1e-6)


def test_decompositions_add_up_and_heatmap_parts_follow_their_definition(dxai):
    saved = torch.load(dxai / "decompositions" / "tumor.pt", weights_only=True)
    x = saved["images"]
    for method, heatmap in saved["heatmaps"].items():
        peak = heatmap.abs().amax(dim=(1, 2, 3), keepdim=True).clamp(min=1e-12)
        expected = heatmap / peak * (x - 0.5)  # about grey, the authors' zero on [-1, 1]
        assert torch.allclose(saved["distinct"][method], expected, atol=1e-6), method
    assert saved["distinct"]["DXAI"].shape == saved["agnostic"].shape == x.shape


def test_cross_classifier_stability_ablation_and_claims_tables(dxai):
    table3 = pd.read_csv(dxai / "table3.csv")
    assert set(table3["trained_by"]) == {"resnet18", "simple"}
    assert {"auc_resnet18", "auc_simple"} <= set(table3.columns)
    table4 = pd.read_csv(dxai / "table4.csv")
    assert list(table4[table4["method"] == "DXAI"]["iteration"]) == [2, 4]
    assert set(table4["method"]) == {"DXAI", "Grad-CAM", "Internal Influence"}
    assert (table4["normalised_std"].between(0, 0.5)).all()  # std / range is at most 1/2
    ablation = pd.read_csv(dxai / "ablation.csv")
    assert set(ablation["variant"]) == {"full", "two_branches", "no_eq12"}
    assert set(ablation.groupby("variant")["branches"].first()) == {3, 2}
    claims = pd.read_csv(dxai / "claims.csv")
    # Table 1 and Fig. 9 for two classifiers, Table 2, Table 3 (2), ablations (3), Table 4 (3),
    # the naive baseline (2), the ground truth on tumor (1)
    assert claims["holds"].isin([True, False]).all() and len(claims) == 16
    assert (claims["work"] == "dxai").all() and claims["paper_value"].notna().all()
    assert claims["output"].str.startswith("results/dxai/").all()
    groundtruth = pd.read_csv(dxai / "groundtruth.csv")
    assert groundtruth["share_in_mask"].between(0, 1).all()
    naive = pd.read_csv(dxai / "naive.csv").set_index("method")
    assert list(naive.index) == ["naive optimisation", "DXAI", "random"]
    assert (naive["kl_to_uniform_after"] >= 0).all()
    assert naive["kl_to_uniform_before"].nunique() == 1  # the same images for every row
