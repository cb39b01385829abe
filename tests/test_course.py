"""The course's methods: identities that a wrong implementation breaks, and known answers."""

import numpy as np
import pytest
import torch
from scipy import ndimage
from skimage.color import rgb2lab

from common.explain import METHODS, Method, explain, lrp
from common.explain.cam import class_activation_map, grad_cam
from common.models import build_classifier
from papers.course.cam import cam_family_maps
from papers.course.classical import (
    CLASSICAL_MAPS,
    conspicuity,
    normalise_map,
    orientation_conspicuity,
    quantised_colours,
    region_contrast_scores,
    spectral_residual,
)
from papers.course.limits import SaturatedDetector, example_image, region_table
from papers.course.relevance import (
    conservation_by_layer,
    linear_counterexample,
    lrp_zero_gap,
    rule_maps,
)
from papers.course.transformer import decompose, head_weights, legrad, median_filter


def odd_patch_image(seed: int = 0) -> torch.Tensor:
    """A mildly noisy grey 128-px image with one red 16x16 patch at rows 80-95, columns 16-31
    (128 px, so that Itti-Koch's level-4 maps have 8 x 8 cells of 16 px, one of which is the
    patch: a patch across two cells would leave the peak to whichever cell wins)."""
    generator = torch.Generator().manual_seed(seed)
    x = 0.5 + 0.05 * torch.rand(1, 1, 128, 128, generator=generator).expand(1, 3, 128, 128)
    x = x.clone()
    x[..., 80:96, 16:32] = torch.tensor([0.9, 0.1, 0.1]).view(1, 3, 1, 1)
    return x


@pytest.mark.parametrize("model", ["spectral residual", "Itti-Koch", "centre-surround",
                                   "region contrast", "MST distance"])
def test_saliency_peaks_on_the_one_odd_patch(model):
    saliency = CLASSICAL_MAPS[model](odd_patch_image())[0]
    row, column = divmod(int(saliency.flatten().argmax()), 128)
    assert 78 <= row < 98 and 14 <= column < 34, (row, column)


def test_spectral_residual_agrees_with_an_independent_numpy_implementation():
    """numpy.fft and scipy.ndimage, written from Hou & Zhang's equations (64 px, 3x3 mean,
    Gaussian sigma 8 with wrap-around), on an image already 64 px wide."""
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    grey = x.mean(1)[0].double().numpy()
    spectrum = np.fft.fft2(grey)
    log_amplitude = np.log(np.abs(spectrum))
    residual = log_amplitude - ndimage.uniform_filter(log_amplitude, 3, mode="nearest")
    saliency = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    expected = ndimage.gaussian_filter(saliency, 8.0, mode="wrap", truncate=4.0)
    ours = spectral_residual(x)[0].double().numpy()
    assert np.corrcoef(ours.ravel(), expected.ravel())[0, 1] > 0.999
    assert np.allclose(ours, expected, rtol=0.02, atol=0.02 * expected.max())


def test_itti_normalisation_promotes_one_peak_over_many():
    one = torch.zeros(1, 1, 16, 16)
    one[..., 8, 8] = 1.0
    many = torch.zeros(1, 1, 16, 16)
    many[..., ::4, ::4] = 1.0
    many[..., 8, 8] = 1.0
    assert normalise_map(one).max() == pytest.approx(1.0)
    assert normalise_map(many).max() == pytest.approx(0.0)


def peak_map(*peaks, side: int = 16) -> torch.Tensor:
    """A (1, 1, side, side) map of zeros with the given (row, column, height) peaks."""
    maps = torch.zeros(1, 1, side, side)
    for row, column, height in peaks:
        maps[..., row, column] = height
    return maps


def test_itti_normalisation_counts_a_flat_peak_once():
    """A maximum two pixels wide is one local maximum: alone, N keeps the map as it is; beside
    a peak of half its height it gets a one-pixel peak's weight, (1 - 0.5)^2. A flat shoulder
    of a higher peak is no maximum at all."""
    plateau = peak_map((8, 8, 1.0), (8, 9, 1.0))
    assert torch.equal(normalise_map(plateau), plateau)
    single, flat = peak_map((8, 8, 1.0), (3, 3, 0.5)), peak_map((8, 8, 1.0), (8, 9, 1.0),
                                                                   (3, 3, 0.5))
    assert torch.allclose(normalise_map(single), 0.25 * single)
    assert torch.allclose(normalise_map(flat), 0.25 * flat)
    shoulder = peak_map((8, 6, 0.5), (8, 7, 0.5), (8, 8, 1.0))
    assert torch.equal(normalise_map(shoulder), shoulder)


def test_itti_normalises_each_feature_map_at_its_own_scale():
    """Itti's across-scale sum is of N(map) reduced to level 4: two equal peaks 2 px apart
    on a 16-px map are two maxima there, so N zeroes the map (reducing it to 4 px first
    would leave one peak, which N keeps)."""
    assert conspicuity([peak_map((5, 5, 1.0), (5, 7, 1.0))], (4, 4)).abs().max() == 0


@pytest.mark.parametrize(("row", "column"), [(0, 0), (5, 6), (13, 2), (15, 15)])
def test_a_one_pixel_peak_survives_the_reduction_to_level_four(row, column):
    """The reduction averages (antialiased), so a peak anywhere lands in its own 4-px cell
    (sampling every fourth pixel loses peaks between the samples)."""
    reduced = conspicuity([peak_map((row, column, 1.0))], (4, 4))[0, 0]
    assert reduced.max() > 0 and divmod(int(reduced.argmax()), 4) == (row // 4, column // 4)


def test_itti_orientation_conspicuity_normalises_each_orientation():
    """O-bar = sum over theta of N(sum over (c, s) of N(O(c, s, theta))): an orientation whose
    six maps peak at one place keeps its peak, one whose six maps each peak somewhere else
    sums to six equal peaks, which the outer N removes (without it they would stand at a
    sixth of the first orientation's peak)."""
    agreeing = [peak_map((4, 4, 1.0), side=8) for _ in range(6)]
    scattered = [peak_map((row, column, 1.0), side=8)
                 for row, column in [(0, 0), (0, 3), (0, 7), (7, 0), (7, 3), (7, 7)]]
    combined = orientation_conspicuity([agreeing, scattered], (8, 8))
    assert torch.allclose(combined, peak_map((4, 4, 1.0), side=8), atol=1e-6)


# CIE L*a*b* (D65) of the sRGB primaries and white, as tabulated (e.g. by Lindbloom's calculator)
REFERENCE_LAB = {"red": (53.2408, 80.0925, 67.2032), "green": (87.7347, -86.1827, 83.1793),
                 "blue": (32.2970, 79.1875, -107.8602), "white": (100.0, 0.0, 0.0)}
RGB = {"red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0),
       "white": (1.0, 1.0, 1.0)}


def three_region_image() -> tuple[np.ndarray, np.ndarray]:
    """A 4 x 6 image in three 4 x 2 regions (labels = column // 2): red, green, and a region
    half white (top) and half blue (bottom)."""
    image = np.zeros((4, 6, 3))
    image[:, 0:2], image[:, 2:4] = RGB["red"], RGB["green"]
    image[:2, 4:6], image[2:, 4:6] = RGB["white"], RGB["blue"]
    return image, np.indices((4, 6))[1] // 2


@pytest.mark.parametrize("spatial_distance", ["euclidean", "squared"])
def test_region_contrast_is_cheng_et_al_s_formula_by_hand(spatial_distance):
    """S(r_k) = sum_{i != k} exp(-D_s / 0.4) w(r_i) D_r(r_k, r_i) (the authors' code: D_s^2),
    w = 8 pixels, D_r the L*a*b* distance averaged over the two regions' colour histograms,
    D_s between centroids on coordinates divided by height and width: 1/3 between
    neighbouring regions, 2/3 between the outer ones."""
    def lab_distance(first, second):
        return np.linalg.norm(np.subtract(REFERENCE_LAB[first], REFERENCE_LAB[second]))

    red_green = lab_distance("red", "green")
    red_mixed = (lab_distance("red", "white") + lab_distance("red", "blue")) / 2
    green_mixed = (lab_distance("green", "white") + lab_distance("green", "blue")) / 2
    power = {"euclidean": 1, "squared": 2}[spatial_distance]
    near, far = np.exp(-(1 / 3) ** power / 0.4), np.exp(-(2 / 3) ** power / 0.4)
    expected = 8 * np.array([near * red_green + far * red_mixed,
                             near * (red_green + green_mixed),
                             far * red_mixed + near * green_mixed])
    scores = region_contrast_scores(*three_region_image(), spatial_distance=spatial_distance)
    assert np.allclose(scores, expected, rtol=1e-4)


def test_colour_quantisation_keeps_95_percent_of_the_pixels_and_at_least_ten_colours():
    """Cheng et al.: 12 levels per channel, the most frequent colours until they cover 95 % of
    the pixels, the rest merged into the nearest kept colour (whose value is the mean of its
    pixels, in L*a*b*); the authors' code keeps at least 10 colours."""
    levels = (np.arange(12) + 0.5) / 12
    image = np.repeat(levels[:11], 20)[None, :, None].repeat(3, axis=2)   # 11 greys x 20 px
    rare = np.array([[[levels[10], levels[10], levels[11]]]])            # 1 px, next to grey 10
    image = np.concatenate([image, rare], axis=1)
    index, palette = quantised_colours(image)
    assert len(palette) == 11 and index[0, -1] == index[0, -2]
    merged = image[0, index[0] == index[0, -1]].mean(0)
    assert np.allclose(palette[index[0, -1]], rgb2lab(merged[None, None])[0, 0])
    few = np.concatenate([image[:, :180], rare], axis=1)                 # 9 greys + 1 px
    index, palette = quantised_colours(few)
    assert len(palette) == 10 and index[0, -1] != index[0, -2]


def test_linear_counterexample_conserves_both_ways_but_only_contributions_match_removal():
    generator = torch.Generator().manual_seed(0)
    weights, bias = torch.randn(3, 20, generator=generator), torch.randn(3, generator=generator)
    x = torch.rand(8, 20, generator=generator)
    rows = {row["decomposition"]: row for row in
            linear_counterexample(weights, bias, x, torch.zeros(8, dtype=torch.long))}
    for row in rows.values():
        assert row["conservation_error"] < 1e-5
    assert rows["contribution"]["pearson_with_removal_effect"] == pytest.approx(1.0)
    assert rows["proportional"]["pearson_with_removal_effect"] < 0.99
    outputs = (weights[0] * x).sum(1) + bias[0]
    assert rows["proportional"]["negative_share"] == pytest.approx((outputs < 0).float().mean())
    assert rows["proportional"]["opposing_features_positive"] == pytest.approx(
        ((weights[0] * x < 0) & (outputs.unsqueeze(1) > 0)).sum().item()
        / (weights[0] * x < 0).sum().item())


@pytest.fixture(scope="module")
def simple_cnn():
    torch.manual_seed(0)
    return build_classifier("simple", num_classes=3, image_size=32).eval().double()


def test_lrp_zero_is_gradient_x_input_with_biases_on_a_relu_network(simple_cnn):
    with torch.no_grad():
        for module in simple_cnn.modules():
            if getattr(module, "bias", None) is not None:
                module.bias.normal_(0, 0.1)
    x = torch.rand(2, 3, 32, 32, dtype=torch.float64)
    assert lrp_zero_gap(simple_cnn, x, torch.tensor([0, 2])) < 1e-8


def test_lrp_zero_conserves_the_logit_at_every_layer_of_a_bias_free_network():
    torch.manual_seed(1)
    model = build_classifier("simple", num_classes=3, image_size=32).eval().double()
    with torch.no_grad():
        for module in model.modules():
            if getattr(module, "bias", None) is not None:
                module.bias.zero_()
    x = torch.rand(3, 3, 32, 32, dtype=torch.float64)
    layers = {"features": model.features, "classifier": model.classifier}
    ratios = conservation_by_layer(model, x, torch.tensor([0, 1, 2]), layers, rule="zero")
    for name, ratio in ratios.items():
        assert torch.allclose(ratio, torch.ones_like(ratio), atol=1e-6), name


def test_cam_equals_grad_cam_at_the_pooled_features_of_a_gap_network():
    """y = w . GAP(A) + b, so dy/dA = w / Z and Grad-CAM = ReLU(CAM) / Z (feature_norm on),
    compared at the feature maps' resolution, before upsampling."""
    from common.explain.cam import recorded_output

    torch.manual_seed(2)
    model = build_classifier("resnet18", num_classes=4, image_size=32, base_width=4,
                             feature_norm=True).eval()
    x, target = torch.rand(3, 3, 32, 32), torch.tensor([0, 3, 1])
    with torch.no_grad(), recorded_output(model.feature_norm) as record:
        model(x)
    features = record["out"]
    cam_low = torch.einsum("bk,bkhw->bhw", model.fc.weight[target].detach(), features)
    upsample = torch.nn.functional.interpolate
    size = dict(size=(32, 32), mode="bilinear", align_corners=False)
    cam = class_activation_map(model, x, target, layer=model.feature_norm)
    gradcam = grad_cam(model, x, target, layer=model.feature_norm)
    area = features.shape[-1] * features.shape[-2]
    assert torch.allclose(cam, upsample(cam_low.unsqueeze(1), **size), atol=1e-6)
    assert torch.allclose(gradcam, upsample(cam_low.clamp(min=0).unsqueeze(1), **size) / area,
                          atol=1e-6)


@pytest.fixture
def unhooked_cnn():
    """A Simple CNN of its own: the tests below leave a hook on the model they are given."""
    torch.manual_seed(0)
    return build_classifier("simple", num_classes=3, image_size=32).eval()


def leaving_a_hook(function):
    """``function`` changed to leave a forward hook on the model it is given."""
    def changing(model, *args, **kwargs):
        model.register_forward_hook(lambda *hook_args: None)
        return function(model, *args, **kwargs)
    return changing


def test_the_cam_family_maps_go_through_the_registry_check(monkeypatch):
    model = build_classifier("resnet18", num_classes=4, image_size=32, base_width=4,
                             feature_norm=True).eval()
    monkeypatch.setitem(METHODS, "gradcam", Method(leaving_a_hook(grad_cam)))
    with pytest.raises(RuntimeError, match="'gradcam' changed the model"):
        cam_family_maps(model, torch.rand(2, 3, 32, 32), torch.tensor([0, 1]),
                        layer=model.feature_norm)


def test_the_lrp_maps_go_through_the_registry_check(unhooked_cnn, monkeypatch):
    monkeypatch.setitem(METHODS, "lrp_epsilon",
                        Method(leaving_a_hook(lrp.lrp), METHODS["lrp_epsilon"].defaults))
    with pytest.raises(RuntimeError, match="'lrp_epsilon' changed the model"):
        rule_maps(unhooked_cnn, torch.rand(2, 3, 32, 32), torch.tensor([0, 1]),
                  {"LRP-eps 1": {"rule": "epsilon", "epsilon": 1.0}})


def test_the_lrp_zero_gap_goes_through_the_registry_check(unhooked_cnn, monkeypatch):
    monkeypatch.setitem(METHODS, "lrp_zero",
                        Method(leaving_a_hook(lrp.lrp), METHODS["lrp_zero"].defaults))
    with pytest.raises(RuntimeError, match="'lrp_zero' changed the model"):
        lrp_zero_gap(unhooked_cnn, torch.rand(2, 3, 32, 32), torch.tensor([0, 1]))


def test_the_relevance_at_each_layer_is_checked_like_a_registry_method(unhooked_cnn, monkeypatch):
    monkeypatch.setattr("papers.course.relevance.relevance", leaving_a_hook(lrp.relevance))
    with pytest.raises(RuntimeError, match="changed the model"):
        conservation_by_layer(unhooked_cnn, torch.rand(2, 3, 32, 32), torch.tensor([0, 1]),
                              {"features": unhooked_cnn.features}, rule="zero")


@pytest.fixture(scope="module")
def vit():
    torch.manual_seed(3)
    model = build_classifier("vit", num_classes=4, image_size=32, patch_size=8, dim=32,
                             depth=3, heads=4).eval()
    with torch.no_grad():  # every bias and LayerNorm parameter away from its initial value
        for name, parameter in model.named_parameters():
            if name.endswith("bias") or "norm" in name:
                parameter.add_(0.3 * torch.randn_like(parameter))
    return model


def test_textspan_terms_sum_to_the_logit(vit):
    x, target = torch.rand(5, 3, 32, 32), torch.tensor([0, 1, 2, 3, 0])
    decomposition = decompose(vit, x, target)
    assert decomposition.tokens.shape == (5, 3, 4, 17)
    with torch.no_grad():
        logits = vit(x).gather(1, target.view(-1, 1)).squeeze(1)
    assert torch.allclose(decomposition.logit, logits)
    assert torch.allclose(decomposition.total(), logits, atol=1e-5)
    assert all(term.abs().max() > 1e-3 for term in decomposition.residual.values())
    assert not any(block.attention.record for block in vit.blocks)


def test_median_filter_removes_an_isolated_token_and_keeps_a_region():
    maps = torch.zeros(1, 8, 8)
    maps[0, 1, 6] = 10.0          # one high-norm token
    maps[0, 3:7, 1:5] = 1.0       # a 4x4 object
    filtered = median_filter(maps)
    assert filtered[0, 1, 6] == 0
    assert torch.equal(filtered[0, 4:6, 2:4], torch.ones(2, 2))


def test_head_weights_follow_one_minus_exp_of_the_iou():
    ious = torch.tensor([[[0.0, 1.0]], [[0.5, float("nan")]]])
    weights = head_weights(ious, alpha=2.0)
    expected = torch.tensor([[(1 - np.exp(-1.0)) / 2, 1 - np.exp(-2.0)]], dtype=torch.float32)
    assert torch.allclose(weights, expected)


def test_legrad_is_a_non_negative_token_map_and_leaves_the_model_as_it_was(vit):
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    maps = legrad(vit, x, torch.tensor([0, 1]))
    assert maps.shape == (2, 4, 4)
    assert (maps >= 0).all() and maps.flatten(1).sum(1).gt(0).all()
    assert not any(block.attention.record for block in vit.blocks)


def test_gradients_miss_the_saturated_object_and_chase_the_spurious_pixel():
    rows = {row["region"]: row for row in region_table(SaturatedDetector(), example_image())}
    obj, pixel = rows["object patch"], rows["spurious pixel"]
    assert obj["prediction_flips"] and not pixel["prediction_flips"]
    assert abs(pixel["score_without_region"] - pixel["score"]) < 0.02
    assert obj["gradient_share"] < 1e-3 and pixel["gradient_share"] > 0.99
    assert obj["integrated_gradients_share"] > 0.99 and obj["occlusion_share"] > 0.99


def test_the_detector_is_what_its_docstring_says():
    x = example_image()
    target = torch.ones(1, dtype=torch.long)
    gradient = explain(SaturatedDetector(), x, target, "gradient")[0, 0]
    assert gradient[27, 24].abs() < 4 and gradient[24, 27].abs() > 3
    assert gradient[8:16, 8:16].abs().max() < 1e-5
