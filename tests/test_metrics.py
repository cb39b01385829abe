"""Faithfulness, localisation and sanity-check metrics: known answers computed by hand."""

import copy
import dataclasses
import inspect

import numpy as np
import pytest
import torch
from torch import nn

from common.data import ImageSplit
from common.explain import METHODS, Method, explain
from common.metrics import METRICS, Metric
from common.metrics.evaluate import MetricSettings, all_scores
from common.metrics.faithfulness import (
    aopc,
    decomposition_auc,
    deletion_auc,
    distinct_part,
    importance_ranks,
    insertion_auc,
    removal_curve,
    replacement,
)
from common.metrics.localisation import energy_pointing_game, iou, pointing_game
from common.metrics.sanity import (
    parameter_randomisation,
    permuted_labels,
    randomisation_stages,
    reinitialise,
)
from common.models import build_classifier


class LinearLogit(nn.Module):
    """Logit 1 = sum(w * x); logit 0 = 0: every removal changes the target logit exactly."""

    def __init__(self, weights: torch.Tensor):
        super().__init__()
        self.weights = nn.Parameter(weights)

    def forward(self, x):
        score = (x * self.weights).flatten(1).sum(1)
        return torch.stack([torch.zeros_like(score), score], dim=1)


@pytest.fixture
def linear():
    generator = torch.Generator().manual_seed(0)
    weights = torch.randn(1, 1, 6, 6, generator=generator)
    x = torch.rand(3, 1, 6, 6, generator=generator)
    return LinearLogit(weights), x, torch.ones(3, dtype=torch.long)


def test_ranks_are_a_permutation_with_the_most_important_first():
    importance = torch.tensor([[0.1, 0.9, 0.5, 0.5]])
    ranks = importance_ranks(importance, seed=3)
    assert ranks[0, 1] == 0 and ranks[0, 0] == 3
    assert sorted(ranks[0, 2:].tolist()) == [1, 2]
    assert torch.equal(ranks, importance_ranks(importance, seed=3))


def test_deletion_curve_of_a_linear_model_is_the_cumulative_contribution(linear):
    model, x, target = linear
    contribution = (x * model.weights).detach()
    ranks = importance_ranks(contribution)
    curve = removal_curve(model, x, ranks, target, torch.zeros_like(x), list(range(37)),
                          score="logit")
    for image in range(3):
        ordered = np.sort(contribution[image].flatten().numpy())[::-1]
        expected = ordered.sum() - np.concatenate([[0], np.cumsum(ordered)])
        np.testing.assert_allclose(curve[image].numpy(), expected, atol=1e-5)


def test_the_true_ranking_deletes_faster_than_random_and_inserts_faster(linear):
    model, x, target = linear
    truth = (x * model.weights).detach()
    noise = torch.rand(x.shape, generator=torch.Generator().manual_seed(1))
    for metric, sign in ((deletion_auc, 1), (insertion_auc, -1)):
        best = metric(model, x, truth, target, steps=36, replace="zero", score="logit")
        random = metric(model, x, noise, target, steps=36, replace="zero", score="logit")
        worst = metric(model, x, -truth, target, steps=36, replace="zero", score="logit")
        assert torch.all(sign * best < sign * random) and torch.all(sign * random < sign * worst)


def test_aopc_matches_a_hand_computed_region_order(linear):
    model, x, target = linear
    attribution = (x * model.weights).detach()
    noise = replacement(x, "uniform", seed=0)
    scores = aopc(model, x, attribution, target, steps=9, patch=2, score="logit")
    for image in range(3):
        contribution = attribution[image, 0].numpy()
        drop = (model.weights[0, 0] * (x[image, 0] - noise[image, 0])).detach().numpy()
        regions = [(r, c) for r in range(0, 6, 2) for c in range(0, 6, 2)]
        regions.sort(key=lambda rc: -contribution[rc[0]:rc[0] + 2, rc[1]:rc[1] + 2].sum())
        drops = np.concatenate([[0], np.cumsum([drop[r:r + 2, c:c + 2].sum()
                                                for r, c in regions])])
        assert scores[image].item() == pytest.approx(drops.mean(), abs=1e-5)


class Brightness(nn.Module):
    """Class 1 when the mean intensity exceeds 0.25, else class 0."""

    def forward(self, x):
        margin = x.mean((1, 2, 3)) - 0.25
        return torch.stack([-margin, margin], dim=1)


def test_decomposition_auc_integrates_accuracy_over_beta():
    x = torch.full((2, 1, 4, 4), 0.5)
    target = torch.ones(2, dtype=torch.long)
    scores = decomposition_auc(Brightness(), x, x, target)  # x - beta x: correct while beta < 0.5
    betas = np.linspace(0, 1, 11)
    expected = np.trapezoid((0.5 * (1 - betas) > 0.25).astype(float), betas)
    assert torch.allclose(scores, torch.full((2,), expected, dtype=scores.dtype))
    agnostic_only = decomposition_auc(Brightness(), x, torch.zeros_like(x), target)
    assert torch.allclose(agnostic_only, torch.ones(2))


def test_distinct_part_scales_the_image_by_the_normalised_map():
    x = torch.full((1, 3, 2, 2), 0.5)
    attribution = torch.tensor([[[[2.0, -4.0], [1.0, 0.0]]]])
    distinct = distinct_part(attribution, x)
    assert distinct.shape == x.shape
    assert torch.allclose(distinct[0, 1], torch.tensor([[0.25, -0.5], [0.125, 0.0]]))


def test_blur_replacement_keeps_the_mean_of_a_constant_image():
    x = torch.full((1, 3, 16, 16), 0.3)
    assert torch.allclose(replacement(x, "blur"), x)


def test_pointing_game_counts_peaks_within_the_tolerance():
    mask = torch.zeros(1, 1, 9, 9)
    mask[..., 4, 4] = 1
    attribution = torch.zeros(1, 1, 9, 9)
    attribution[..., 4, 7] = 1.0  # three pixels from the object
    assert pointing_game(attribution, mask, tolerance=2).item() == 0.0
    assert pointing_game(attribution, mask, tolerance=3).item() == 1.0
    assert torch.isnan(pointing_game(attribution, torch.zeros_like(mask), tolerance=3)).all()


def test_energy_pointing_game_and_iou_on_a_known_map():
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2, :2] = 1
    attribution = torch.zeros(1, 1, 4, 4)
    attribution[..., 0, 0] = 3.0
    attribution[..., 3, 3] = 1.0
    attribution[..., 2, 2] = -5.0  # negative relevance is not energy
    assert energy_pointing_game(attribution, mask).item() == pytest.approx(0.75)
    # at 0.3 of the peak only (0,0) and (3,3) are selected: 1 shared of 5 in the union
    assert iou(attribution, mask, threshold=0.3).item() == pytest.approx(1 / 5)
    assert iou(attribution, mask, threshold=0.5).item() == pytest.approx(1 / 4)


def test_localisation_is_batch_invariant():
    generator = torch.Generator().manual_seed(4)
    attribution = torch.randn(5, 3, 8, 8, generator=generator)
    mask = torch.rand(5, 8, 8, generator=generator) > 0.7
    for metric in (pointing_game, energy_pointing_game, iou):
        batch = metric(attribution, mask)
        single = torch.cat([metric(attribution[i:i + 1], mask[i:i + 1]) for i in range(5)])
        assert torch.equal(batch, single)


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    return build_classifier("resnet18", num_classes=3, image_size=32, base_width=4).eval()


def test_stages_run_from_the_output_down():
    simple = build_classifier("simple", num_classes=2, image_size=16)
    assert randomisation_stages(simple) == ["classifier.3", "classifier.1", "features.3",
                                            "features.0"]
    resnet = build_classifier("resnet18", num_classes=2, image_size=16, base_width=4)
    assert randomisation_stages(resnet)[:3] == ["fc", "layer4.1", "layer4.0"]


def test_reinitialise_changes_exactly_the_named_stages(resnet):
    before = {key: value.clone() for key, value in resnet.state_dict().items()}
    rng_state = torch.random.get_rng_state()
    randomised = reinitialise(resnet, ["fc", "layer4.1"], seed=0)
    assert torch.equal(torch.random.get_rng_state(), rng_state)
    for key, value in randomised.state_dict().items():
        assert torch.equal(resnet.state_dict()[key], before[key])
        changed = not torch.equal(value, before[key])
        if key.startswith(("fc.", "layer4.1.")) and "num_batches" not in key:
            assert changed or value.unique().numel() == 1, key  # BN weights reset to 1
        else:
            assert not changed, key
    again = reinitialise(resnet, ["fc", "layer4.1"], seed=0)
    assert all(torch.equal(a, b) for a, b in zip(randomised.state_dict().values(),
                                                 again.state_dict().values(), strict=True))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_reinitialise_draws_the_same_weights_for_a_model_on_the_gpu(resnet):
    cuda_state = torch.cuda.get_rng_state()
    on_cpu = reinitialise(resnet, ["fc", "layer4.1"], seed=0)
    on_gpu = reinitialise(copy.deepcopy(resnet).cuda(), ["fc", "layer4.1"], seed=0)
    assert torch.equal(torch.cuda.get_rng_state(), cuda_state)
    assert all(gpu.is_cuda and torch.equal(cpu, gpu.cpu()) for cpu, gpu in
               zip(on_cpu.state_dict().values(), on_gpu.state_dict().values(), strict=True))


def test_parameter_randomisation_separates_model_dependent_methods(resnet, monkeypatch):
    """A map that ignores the model (the image itself) stays identical under randomisation."""
    monkeypatch.setitem(METHODS, "image_itself",
                        Method(lambda model, x, target: x.mean(1, keepdim=True)))
    x = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    target = torch.tensor([0, 1, 2, 0])
    for cascading in (True, False):
        blind = parameter_randomisation(resnet, x, target, "image_itself", cascading=cascading)
        assert all(torch.allclose(record["ssim"], torch.ones(4)) for record in blind)
    gradient = parameter_randomisation(resnet, x, target, "gradient", cascading=True)
    assert [record["stage"] for record in gradient] == randomisation_stages(resnet)
    assert gradient[-1]["randomised"] == randomisation_stages(resnet)
    assert gradient[-1]["spearman"].mean() < 0.5


def test_parameter_randomisation_compares_with_the_reference_it_is_given(resnet, monkeypatch):
    """The trained model's map, given, is not computed again (the sanity job computes it once
    for its three tests), and the records are those computed with it."""
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    target = torch.tensor([1, 2])
    computed = parameter_randomisation(resnet, x, target, "gradient", cascading=False)
    calls = []
    monkeypatch.setitem(METHODS, "counted_gradient", Method(
        lambda model, x, target: calls.append(model) or METHODS["gradient"].function(
            model, x, target)))
    reference = explain(resnet, x, target, "gradient")
    given = parameter_randomisation(resnet, x, target, "counted_gradient", cascading=False,
                                    reference=reference)
    assert resnet not in calls and len(calls) == len(randomisation_stages(resnet))
    for ours, theirs in zip(given, computed, strict=True):
        assert all(torch.equal(ours[name], theirs[name]) for name in ("ssim", "spearman"))


def test_permuted_labels_keep_class_frequencies():
    labels = torch.arange(20) % 4
    split = ImageSplit(torch.rand(20, 1, 4, 4), labels, None, ("a", "b", "c", "d"))
    permuted = permuted_labels(split, seed=0)
    assert torch.equal(permuted.labels.sort().values, labels.sort().values)
    assert not torch.equal(permuted.labels, labels)
    assert permuted.images is split.images


def test_every_metric_declares_its_direction():
    assert {"deletion_auc", "insertion_auc", "aopc", "decomposition_auc", "pointing_game",
            "energy_pointing_game", "iou", "pcc", "sim", "kl", "nss", "auc_judd", "ssim",
            "spearman", "hog_pcc"} <= set(METRICS)
    assert METRICS["deletion_auc"].higher_is_better is False
    assert METRICS["kl"].higher_is_better is False
    assert METRICS["insertion_auc"].higher_is_better is True


def test_every_metric_takes_the_settings_it_declares_as_keywords_of_its_function():
    names = {setting.name for setting in dataclasses.fields(MetricSettings)}
    for name, metric in METRICS.items():
        keywords = inspect.signature(metric.function).parameters
        assert set(metric.settings) <= set(keywords), name
        assert set(metric.settings.values()) <= names, name
    assert {setting for metric in METRICS.values() for setting in metric.settings.values()} \
        == names  # no setting that no metric takes


def test_a_registered_metric_is_evaluated_with_its_declared_settings(monkeypatch):
    """Registering a metric is the one edit: the evaluation loops over the registry."""
    generator = torch.Generator().manual_seed(0)
    model = LinearLogit(torch.randn(1, 1, 24, 24, generator=generator))  # HOG needs 24 px
    x, target = torch.rand(3, 1, 24, 24, generator=generator), torch.ones(3, dtype=torch.long)
    received = {}

    def fabricated(attribution, mask, tolerance):
        received["tolerance"] = tolerance
        return torch.full((len(attribution),), 0.5)

    monkeypatch.setitem(METRICS, "fabricated", Metric(fabricated, True, "localisation",
                                                      "a test's", {"tolerance": "iou_threshold"}))
    settings = MetricSettings(deletion_steps=2, aopc_steps=2, aopc_patch=2, iou_threshold=0.3)
    attribution, mask = torch.rand_like(x), torch.rand_like(x) > 0.5
    scores = all_scores(model, x, attribution, target, mask, settings)
    assert list(scores) == list(METRICS)
    assert torch.equal(scores["fabricated"], torch.full((3,), 0.5))
    assert received == {"tolerance": 0.3}
    without_mask = all_scores(model, x, attribution, target, None, settings)
    assert list(without_mask) == [name for name, metric in METRICS.items()
                                  if metric.category == "faithfulness"]
