"""DXAI's evaluation around the networks: the heatmap methods as its tables run them (grey
baselines, the authors' layers, the discriminator as a classifier), Fig. 9's distance to
uniform, the claims' criteria, and the report text against the code."""

import pandas as pd
import pytest
import torch
import yaml
from torch import nn

from common import PROJECT_ROOT
from common.explain import explain
from common.models import build_classifier
from papers.dxai.claims import (
    figure9_claims,
    groundtruth_claims,
    naive_claims,
    table1_claims,
    table2_claim,
    table3_claims,
)
from papers.dxai.decompose import DiscriminatorClassifier
from papers.dxai.evaluation import (
    DISCRIMINATOR,
    NAIVE,
    RANDOM,
    UNIFORM_PART,
    distance_to_uniform,
    probability_column,
)
from papers.dxai.heatmaps import (
    INFLUENCE_LAYER,
    classifier_layers,
    discriminator_layers,
    discriminator_refusal,
    heatmap,
)
from papers.dxai.model import Architecture, Discriminator

CONFIG = yaml.safe_load((PROJECT_ROOT / "config/config.yaml").read_text())
METHOD_PARAMS = CONFIG["dxai"]["method_params"]


class Linear(nn.Module):
    """f_c(x) = sum w_c x + b_c: every path method has a closed form on it."""

    def __init__(self, shape, classes: int = 2):
        super().__init__()
        torch.manual_seed(0)
        self.weight = nn.Parameter(torch.randn(classes, *shape))
        self.bias = nn.Parameter(torch.randn(classes))

    def forward(self, x):
        return torch.einsum("bchw,kchw->bk", x, self.weight) + self.bias


@pytest.mark.parametrize("method", ["integrated_gradients", "gradient_shap"])
def test_dxai_path_methods_start_from_grey(method):
    """On a linear model IG and GradientSHAP give w * (x - baseline): with DXAI's parameters
    the baseline is grey, the authors' zero on [-1, 1] images."""
    x = torch.rand(3, 3, 8, 8)
    model, target = Linear(x.shape[1:]), torch.tensor([0, 1, 0])
    attribution = heatmap(model, x, target, method, classifier_layers("unused"), METHOD_PARAMS)
    expected = model.weight[target].detach() * (x - 0.5)
    assert torch.allclose(attribution, expected, atol=1e-5)


def test_internal_influence_takes_a_baseline_and_dxai_uses_grey():
    """The registry's Internal Influence starts from its baseline (black by default, as
    Captum); DXAI's from grey, at the authors' layer. Checked against Captum called directly."""
    from captum.attr import InternalInfluence

    torch.manual_seed(0)
    model = build_classifier("resnet18", num_classes=2, image_size=32, base_width=4).eval()
    x, target = torch.rand(2, 3, 32, 32), torch.tensor([0, 1])
    layer = model.get_submodule("layer4.0.conv1")

    def captum(baseline: float) -> torch.Tensor:
        influence = InternalInfluence(model, layer).attribute(
            x, baselines=torch.full_like(x, baseline), target=target, n_steps=50)
        return torch.nn.functional.interpolate(influence.relu().mean(1, keepdim=True),
                                               size=(32, 32), mode="bilinear")

    grey = heatmap(model, x, target, "internal_influence", classifier_layers("layer3.1.conv2"),
                   METHOD_PARAMS)
    assert torch.allclose(grey, captum(0.5), atol=1e-6)
    black = explain(model, x, target, "internal_influence", layer=INFLUENCE_LAYER)
    assert torch.allclose(black, captum(0.0), atol=1e-6)
    assert (grey - black).abs().max() > 0.1 * black.abs().max()


def test_discriminator_layers_are_the_authors():
    """Their Grad-CAM layer main[repeat_num - 1].conv2 and Internal Influence layer
    main[repeat_num - 3].conv1, where main[0] is the first convolution."""
    layers = discriminator_layers(Architecture(image_size=256, channels=3, classes=2))
    assert (layers.gradcam, layers.influence) == ("discriminator.blocks.4.conv2",
                                                  "discriminator.blocks.2.conv1")
    small = discriminator_layers(Architecture(image_size=32, channels=3, classes=2))
    assert (small.gradcam, small.influence) == ("discriminator.blocks.1.conv2",
                                                "discriminator.blocks.0.conv1")


def test_the_discriminator_is_explained_by_the_methods_that_apply_to_it():
    arch = Architecture(image_size=32, channels=3, classes=2, discriminator_width=4,
                        discriminator_max_width=8, init="pytorch")
    torch.manual_seed(0)
    model = DiscriminatorClassifier(arch, Discriminator(arch).state_dict())
    x, target = torch.rand(2, 3, 32, 32), torch.tensor([0, 1])
    layers = discriminator_layers(arch)
    for method in ("integrated_gradients", "gradient_shap", "internal_influence", "gradcam",
                   "random"):
        assert discriminator_refusal(method) is None
        maps = heatmap(model, x, target, method, layers, METHOD_PARAMS)
        assert maps.shape[-2:] == (32, 32) and torch.isfinite(maps).all(), method
        assert method == "gradcam" or maps.abs().sum() > 0, method  # ReLU may zero Grad-CAM
    for method in ("guided_gradcam", "lrp_epsilon", "lrp_gamma", "deeplift"):
        assert discriminator_refusal(method), method
    with pytest.raises(ValueError, match="no ReLU"):  # guided backprop has nothing to guide
        heatmap(model, x, target, "guided_gradcam", layers, METHOD_PARAMS)


def _curve(classifier: str, method: str, probabilities: dict) -> list[dict]:
    """Beta curve rows of two classes: {beta: (p(a | a), p(a | b))}."""
    rows = []
    for beta, (own_a, a_given_b) in probabilities.items():
        rows.append({"classifier": classifier, "method": method, "beta": beta,
                     "accuracy": 1.0, probability_column("a", "a"): own_a,
                     probability_column("b", "a"): 1 - own_a,
                     probability_column("a", "b"): a_given_b,
                     probability_column("b", "b"): 1 - a_given_b})
    return rows


def test_distance_to_uniform_known_answers():
    rows = pd.DataFrame(_curve("r", "DXAI", {0.0: (1.0, 0.0), 0.5: (0.75, 0.25),
                                             1.0: (0.5, 0.5)}))
    assert distance_to_uniform(rows).tolist() == pytest.approx([0.5, 0.25, 0.0])


def test_figure9_claim_needs_dxai_closer_to_uniform_than_at_the_start_and_than_random():
    curves = pd.DataFrame(
        _curve("resnet18", "DXAI", {0.0: (0.9, 0.1), 1.0: (0.6, 0.4)})
        + _curve("resnet18", RANDOM, {0.0: (0.9, 0.1), 1.0: (0.8, 0.2)})
        + _curve(DISCRIMINATOR, "DXAI", {0.0: (0.9, 0.1), 1.0: (0.6, 0.4)})
        + _curve(DISCRIMINATOR, RANDOM, {0.0: (0.9, 0.1), 1.0: (0.55, 0.45)}))
    claims = figure9_claims({"peppers": curves})
    assert [claim["holds"] for claim in claims] == [True, False]  # random gets closer there
    assert "discriminator" in claims[1]["claim"] and "0.100 at beta 1" in claims[0]["measured"]


def test_table1_claims_name_the_classifier_and_the_methods_left_out():
    table1 = pd.DataFrame([
        {"classifier": "resnet18", "method": "DXAI", "cars": 0.6},
        {"classifier": "resnet18", "method": "lrp_epsilon", "cars": 0.5},
        {"classifier": "resnet18", "method": RANDOM, "cars": 0.9},
        {"classifier": DISCRIMINATOR, "method": "DXAI", "cars": 0.6},
        {"classifier": DISCRIMINATOR, "method": RANDOM, "cars": 0.9}])
    explained, discriminator = table1_claims(table1)
    assert not explained["holds"] and "explained resnet18" in explained["claim"]
    assert discriminator["holds"] and "own discriminator" in discriminator["claim"]
    assert "lrp_epsilon not run with it" in discriminator["measured"]


def test_table1_claim_is_not_held_where_the_normalised_auc_is_undefined():
    """A classifier wrong on every unaltered image of a dataset leaves its normalised AUC
    undefined (NaN): the claim is judged, does not hold, and says why."""
    table1 = pd.DataFrame([
        {"classifier": "resnet18", "method": "DXAI", "cars": 0.4, "tumor": float("nan")},
        {"classifier": "resnet18", "method": RANDOM, "cars": 0.9, "tumor": float("nan")}])
    cars, tumor = table1_claims(table1)
    assert cars["holds"] and not tumor["holds"]
    assert "undefined for DXAI, random" in tumor["measured"]


def test_claims_of_an_evaluation_without_defined_scores_are_judged_not_held():
    """Tables 2 and 3 and the evidence-mask share, undefined (NaN) where the classifier is
    wrong on every image or no image has a mask, give claims that do not hold and say so."""
    nan = float("nan")
    table2 = pd.DataFrame({"method": ["DXAI", RANDOM], "auc": [nan, nan]})
    table3 = pd.DataFrame({"dataset": ["tumor"] * 2, "trained_by": ["resnet18", "simple"],
                           "auc_resnet18": [nan, nan], "auc_simple": [0.3, 0.2]})
    groundtruth = pd.DataFrame({"dataset": ["tumor"] * 3,
                                "method": [UNIFORM_PART, "DXAI", "gradcam"],
                                "share_in_mask": [nan] * 3, "images": [0] * 3})
    claims = [table2_claim(table2), *table3_claims(table3), *groundtruth_claims(groundtruth)]
    assert [claim["holds"] for claim in claims] == [False, False, True, False]
    assert claims[2]["measured"] == "simple 0.200 vs best other resnet18 0.300"
    assert "no evaluated image has an evidence mask" in claims[3]["measured"]


def test_naive_claims_criteria():
    naive = pd.DataFrame([
        {"method": NAIVE, "beta_auc": 0.95, "kl_to_uniform_before": 1.0,
         "kl_to_uniform_after": 0.009},
        {"method": "DXAI", "beta_auc": 0.7, "kl_to_uniform_before": 1.0,
         "kl_to_uniform_after": 0.3},
        {"method": RANDOM, "beta_auc": 0.99, "kl_to_uniform_before": 1.0,
         "kl_to_uniform_after": 0.8}])
    converged, informative = naive_claims(naive)
    assert converged["holds"] and informative["holds"]
    naive.loc[0, "kl_to_uniform_after"] = 0.02  # 2 % of the start: not near uniform
    naive.loc[0, "beta_auc"] = 0.6
    converged, informative = naive_claims(naive)
    assert not converged["holds"] and not informative["holds"]


def test_groundtruth_claim_needs_most_of_the_part_inside_the_mask():
    rows = [{"dataset": "cars", "method": UNIFORM_PART, "share_in_mask": 0.04},
            {"dataset": "cars", "method": "DXAI", "share_in_mask": 0.3},
            {"dataset": "cars", "method": "lrp_epsilon", "share_in_mask": 0.6},
            {"dataset": "tumor", "method": UNIFORM_PART, "share_in_mask": 0.04},
            {"dataset": "tumor", "method": "DXAI", "share_in_mask": 0.7},
            {"dataset": "tumor", "method": "lrp_epsilon", "share_in_mask": 0.6}]
    cars, tumor = groundtruth_claims(pd.DataFrame(rows))
    assert not cars["holds"] and "7.5x the mask area" in cars["measured"]
    assert tumor["holds"] and "Fig. 20" in tumor["paper_value"]
    assert (tumor["source"], tumor["output"], tumor["figure"]) == \
        ("Fig. 20", "groundtruth", "grids_tumor")
    assert tumor["datasets"] == ("tumor",)


def test_the_report_and_docstrings_state_the_true_class_and_the_grey_reference():
    """The code explains each image for its true class and takes a heatmap's distinct part
    about grey (x - 0.5); the captions and module docstrings must say so."""
    import papers.dxai.decompose as decompose

    caption = (PROJECT_ROOT / "papers/dxai/report/table1.rst").read_text()
    for text in (caption, decompose.__doc__):
        assert "prediction" not in text and "true class" in text
    assert "x - 0.5" in caption
