"""Attribution methods: identities, agreement with independent code, and the call contract."""

import collections
import inspect

import pytest
import torch
from captum.attr import Saliency
from conftest import torchvision_resnet18_and_zoo_copy
from torch import nn

from common import budget
from common.explain import METHODS, explain
from common.models import build_classifier


@pytest.fixture(scope="module")
def images():
    return torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(1))


TARGET = torch.tensor([0, 2, 3])


def test_integrated_gradients_is_complete(resnet, images):
    """Sum of attributions = f(x) - f(baseline), up to the quadrature error."""
    for rule in ("gausslegendre", "riemann_trapezoid"):
        attribution = explain(resnet, images, TARGET, "integrated_gradients", steps=128,
                              rule=rule)
        with torch.no_grad():
            difference = (resnet(images) - resnet(torch.zeros_like(images)))[range(3), TARGET]
        assert torch.allclose(attribution.sum((1, 2, 3)), difference, rtol=0.02, atol=1e-3), rule


def test_cam_equals_grad_cam_on_a_gap_network(resnet, images):
    """With GAP then one linear layer, Grad-CAM's weights are w_ck / (h w): CAM up to scale."""
    cam = explain(resnet, images, TARGET, "cam")
    grad_cam = explain(resnet, images, TARGET, "gradcam")
    side = 16 // 8
    assert torch.allclose(grad_cam * side * side, torch.relu(cam), atol=1e-5)


def test_gradient_matches_captum_and_autograd(resnet, images):
    ours = explain(resnet, images, TARGET, "gradient")
    captum = Saliency(resnet).attribute(images.clone().requires_grad_(True), target=TARGET,
                                        abs=False)
    assert torch.allclose(ours, captum, atol=1e-6)
    saliency = explain(resnet, images, TARGET, "saliency")
    assert torch.allclose(saliency, ours.abs().amax(1, keepdim=True))
    product = explain(resnet, images, TARGET, "gradient_x_input")
    assert torch.allclose(product, ours * images)


def test_gradient_x_input_is_exact_for_a_linear_model():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3, bias=False))
    x = torch.rand(2, 3, 2, 2)
    attribution = explain(model, x, torch.tensor([1, 2]), "gradient_x_input")
    with torch.no_grad():
        logits = model(x)
    assert torch.allclose(attribution.sum((1, 2, 3)), logits[[0, 1], [1, 2]], atol=1e-6)


class TinyReluNet(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.first, self.relu, self.second = nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2)

    def forward(self, x):
        return self.second(self.relu(self.first(x.flatten(1))))


def test_guided_backprop_and_deconvnet_against_hand_written_rules():
    model = TinyReluNet().eval()
    x = torch.randn(4, 1, 2, 3)
    target = torch.tensor([0, 1, 0, 1])
    pre = model.first(x.flatten(1))
    upstream = model.second.weight[target]  # d logit / d relu output
    guided = (upstream.clamp(min=0) * (pre > 0)) @ model.first.weight
    deconv = upstream.clamp(min=0) @ model.first.weight
    assert torch.allclose(explain(model, x, target, "guided_backprop").flatten(1), guided,
                          atol=1e-6)
    assert torch.allclose(explain(model, x, target, "deconvnet").flatten(1), deconv, atol=1e-6)


def test_guided_backprop_and_deconvnet_pass_relu6_by_the_same_rules():
    """ReLU6 networks (EfficientNet-Lite, MobileNet): the forward mask is 0 < x < 6, and the
    rules apply there too; Captum's hooks skip ReLU6 and would return the plain gradient."""
    model = TinyReluNet().eval()
    model.relu = nn.ReLU6()
    x = 10 * torch.randn(8, 1, 2, 3)
    target = torch.tensor([0, 1] * 4)
    pre = model.first(x.flatten(1))
    assert ((pre > 6).any() and (pre < 0).any()).item()
    upstream = model.second.weight[target]
    active = (pre > 0) & (pre < 6)
    guided = (upstream.clamp(min=0) * active) @ model.first.weight
    deconv = upstream.clamp(min=0) @ model.first.weight
    assert torch.allclose(explain(model, x, target, "guided_backprop").flatten(1), guided,
                          atol=1e-6)
    assert torch.allclose(explain(model, x, target, "deconvnet").flatten(1), deconv, atol=1e-6)
    assert not torch.allclose(explain(model, x, target, "gradient").flatten(1), guided)


@pytest.mark.parametrize(("method", "library"), [("guided_backprop", "GuidedBackprop"),
                                                  ("deconvnet", "Deconvolution")])
def test_rectified_gradients_agree_with_captum_on_a_relu_resnet(method, library, resnet, images):
    import captum.attr

    model, x = resnet, images
    reference = getattr(captum.attr, library)(model).attribute(x.clone().requires_grad_(True),
                                                                target=TARGET)
    torch.testing.assert_close(explain(model, x, TARGET, method), reference,
                               atol=1e-6, rtol=1e-5)


def test_rectified_gradients_refuse_a_network_without_rectifiers():
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 3), nn.Tanh(), nn.Linear(3, 2))
    with pytest.raises(ValueError, match="no ReLU or ReLU6"):
        explain(model, torch.randn(2, 1, 2, 3), torch.tensor([0, 1]), "guided_backprop")


def test_smoothgrad_noise_is_a_fraction_of_each_images_range():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 1))
    x = torch.tensor([[[[0.0, 1.0], [0.5, 0.2]]], [[[0.0, 10.0], [5.0, 2.0]]]])
    linear = explain(model, x, 0, "smoothgrad", samples=8)
    assert torch.allclose(linear, explain(model, x, 0, "gradient"), atol=1e-6)  # linear: exact
    square = nn.Sequential(nn.Flatten(), SquareSum())
    spread = explain(square, x, 0, "smoothgrad", samples=4000, noise_level=0.1)
    exact = 2 * x
    error = (spread - exact).abs().mean((1, 2, 3))
    assert torch.allclose(explain(square, x, 0, "smoothgrad", samples=4000, noise_level=0.1),
                          spread)  # same seed, same noise
    assert error[1] > 5 * error[0]  # noise scales with the range: 10x here


class SquareSum(nn.Module):
    def forward(self, x):
        return (x ** 2).sum(1, keepdim=True)


class InputRecorder(nn.Module):
    """A model that keeps a copy of every batch it is called on."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model, self.seen = model, []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return self.model(x)


def test_survey_smoothgrad_averages_saliency_maps_over_smoothgrads_own_noise(resnet, images):
    """Eq. 8 of the survey: the mean over the noisy copies of R = max_c |grad|, each copy's
    map computed alone; the copies are SmoothGrad's (Smilkov et al.) own, in several chunks."""
    settings = {"samples": 5, "noise_level": 0.2, "seed": 4}
    smilkov, survey = InputRecorder(resnet), InputRecorder(resnet)
    with budget.limited(6):
        mean_gradient = explain(smilkov, images, TARGET, "smoothgrad", **settings)
        ours = explain(survey, images, TARGET, "smoothgrad_saliency", **settings)
    assert len(survey.seen) == 3  # passes of 2, 2 and 1 samples of the 3 images
    for theirs, mine in zip(smilkov.seen, survey.seen, strict=True):
        assert torch.equal(theirs, mine)
    copies = torch.cat(survey.seen).view(settings["samples"], *images.shape)
    one_by_one = torch.stack([
        torch.cat([explain(resnet, copy[image:image + 1], TARGET[image:image + 1], "saliency")
                   for image in range(len(images))])
        for copy in copies])
    assert ours.shape == (3, 1, 16, 16)
    torch.testing.assert_close(ours, one_by_one.mean(0), atol=1e-6, rtol=1e-5)
    reduced_mean = mean_gradient.abs().amax(1, keepdim=True)  # max_c |mean g| <= mean max_c |g|
    assert (reduced_mean <= ours + 1e-6).all()
    assert (ours - reduced_mean).mean() > 0.1 * ours.mean()


@pytest.mark.parametrize("method", sorted(METHODS))
def test_batch_equals_one_by_one_and_model_is_untouched(resnet, images, method):
    state = {key: value.clone() for key, value in resnet.state_dict().items()}
    resnet.train()
    together = explain(resnet, images, TARGET, method)
    assert resnet.training  # mode restored
    resnet.eval()
    alone = torch.cat([explain(resnet, images[i:i + 1], TARGET[i:i + 1], method)
                       for i in range(3)])
    assert together.shape[0] == 3 and together.shape[-2:] == images.shape[-2:]
    assert torch.allclose(together, alone, atol=1e-5, rtol=1e-4)
    for key, value in resnet.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert not any(m._forward_hooks or m._backward_hooks for m in resnet.modules())


LAYER_METHODS = sorted(name for name, entry in METHODS.items()
                       if "layer" in inspect.signature(entry.function).parameters)


def test_the_cam_family_and_internal_influence_take_a_layer():
    assert {"cam", "gradcam", "guided_gradcam", "gradcam_plus_plus", "eigen_gradcam", "fem",
            "internal_influence"} <= set(LAYER_METHODS)


@pytest.mark.parametrize("method", LAYER_METHODS)
def test_a_layer_given_as_a_module_or_as_its_path_gives_the_same_map(resnet, images, method):
    """The last block's second convolution (its channels are the ones CAM's classifier weighs)."""
    by_module = explain(resnet, images, TARGET, method, layer=resnet.layer4[1].conv2)
    by_path = explain(resnet, images, TARGET, method, layer="layer4.1.conv2")
    assert torch.equal(by_module, by_path)
    assert not torch.equal(by_module, explain(resnet, images, TARGET, method))


def test_deeplift_sums_to_delta(resnet, images):
    attribution = explain(resnet, images, TARGET, "deeplift")
    with torch.no_grad():
        difference = (resnet(images) - resnet(torch.zeros_like(images)))[range(3), TARGET]
    assert torch.allclose(attribution.sum((1, 2, 3)), difference, atol=1e-4, rtol=1e-3)


class _SharedRectifier(nn.Module):
    """One ReLU module called twice per forward pass (torchvision's BasicBlock does this)."""

    def __init__(self):
        super().__init__()
        self.first, self.second, self.head = nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 2)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.head(self.relu(self.second(self.relu(self.first(x.flatten(1))))))


@pytest.mark.parametrize(("model", "message"), [
    (nn.Sequential(nn.Flatten(), nn.Linear(4, 4), nn.ReLU6(), nn.Linear(4, 2)), "ReLU6"),
    (nn.Sequential(nn.Flatten(), nn.Linear(4, 4), nn.GELU(), nn.Linear(4, 2)), "GELU"),
    (_SharedRectifier(), "'relu'"),
])
def test_deeplift_refuses_networks_it_would_silently_get_wrong(model, message):
    """Captum would return a map whose sum misses f(x) - f(0) here, without an error."""
    with pytest.raises(ValueError, match=message):
        explain(model, torch.rand(2, 1, 2, 2), torch.tensor([0, 1]), "deeplift")


def test_gradient_shap_converges_to_integrated_gradients(resnet, images):
    """With one baseline, GradientSHAP is a Monte-Carlo estimate of Integrated Gradients."""
    shap = explain(resnet, images, TARGET, "gradient_shap", samples=3000)
    ig = explain(resnet, images, TARGET, "integrated_gradients", steps=64)
    assert torch.allclose(shap.sum((1, 2, 3)), ig.sum((1, 2, 3)), rtol=0.05, atol=1e-3)
    cosine = torch.nn.functional.cosine_similarity(shap.flatten(1), ig.flatten(1))
    assert (cosine > 0.95).all()


def test_gradient_shap_is_seeded_and_leaves_the_global_generator(resnet, images):
    state = torch.random.get_rng_state()
    first = explain(resnet, images, TARGET, "gradient_shap")
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(first, explain(resnet, images, TARGET, "gradient_shap"))
    assert not torch.equal(first, explain(resnet, images, TARGET, "gradient_shap", seed=1))


def _their_cam(cls, model, x, target):
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    with cls(model=model, target_layers=[model.layer4]) as method:
        return torch.from_numpy(method(input_tensor=x, targets=[ClassifierOutputTarget(int(t))
                                                                 for t in target]))


def _min_max(maps):
    low = maps.amin(dim=(-2, -1), keepdim=True)
    return (maps - low) / (maps.amax(dim=(-2, -1), keepdim=True) - low).clamp(min=1e-7)


@pytest.mark.parametrize(("method", "library_class"), [
    ("gradcam", "GradCAM"), ("gradcam_plus_plus", "GradCAMPlusPlus")])
def test_cam_family_agrees_with_pytorch_grad_cam(resnet, images, method, library_class):
    import pytorch_grad_cam

    theirs = _their_cam(getattr(pytorch_grad_cam, library_class), resnet, images, TARGET)
    ours = _min_max(explain(resnet, images, TARGET, method)[:, 0])
    assert torch.allclose(ours, theirs, atol=0.05)


def test_eigen_gradcam_fixes_the_sign_of_the_library_projection(resnet, images):
    from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection

    from common.explain.cam import _activations_and_gradients

    activations, grads = _activations_and_gradients(resnet, images, TARGET)
    theirs = torch.from_numpy(get_2d_projection((grads * activations).numpy()))
    evidence = (grads * activations).sum(1)
    centred = evidence - evidence.mean(dim=(1, 2), keepdim=True)
    sign = torch.sign((theirs * centred).sum((1, 2))).view(-1, 1, 1)
    expected = torch.nn.functional.interpolate(torch.relu(sign * theirs).unsqueeze(1),
                                               size=(16, 16), mode="bilinear")
    assert torch.allclose(explain(resnet, images, TARGET, "eigen_gradcam"), expected, atol=1e-5)


class _FeaturesOnly(nn.Module):
    """A "network" whose feature layer is its input: FEM of it is FEM of the given maps."""

    def __init__(self):
        super().__init__()
        self.features = nn.Identity()

    def forward(self, x):
        return self.features(x).mean((2, 3))


def test_fem_marks_channels_above_mean_plus_k_std():
    x = torch.zeros(1, 2, 4, 4)
    x[0, 0, 0, 0] = 8.0  # channel 0: one hot spot, mean 0.5, std about 1.94
    x[0, 1] = 1.0        # channel 1: flat, so every position is >= mean + k * 0
    fem = explain(_FeaturesOnly(), x, 0, "fem", k=1.0)
    assert fem[0, 0, 0, 0] == 1.0 and torch.allclose(fem[0, 0, 1:, 1:], torch.zeros(3, 3))


def test_fem_reads_efficientnets_features_after_their_relu6():
    """EfficientNet-Lite's feature layer is hooked before its shared ReLU6: FEM must see the
    rectified features, as on every other network (pre-activation means can be negative)."""
    from common.explain.cam import recorded_output
    from common.models.pretrained import efficientnet_lite0

    model = efficientnet_lite0().eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad(), recorded_output(model.network._bn1) as record:
        model(x)
    assert (record["out"] < 0).any()  # the hooked features are not yet rectified
    expected = torch.nn.functional.interpolate(
        explain(_FeaturesOnly(), record["out"].clamp(0, 6), 0, "fem"), size=(64, 64),
        mode="bilinear", align_corners=False)
    assert torch.allclose(explain(model, x, torch.tensor([0]), "fem"), expected, atol=1e-6)


def test_occlusion_finds_the_only_informative_patch():
    model = nn.Sequential(nn.Conv2d(1, 1, 1, bias=False), nn.Flatten(), nn.Linear(64, 1))
    with torch.no_grad():
        model[0].weight.fill_(1.0)
        model[2].weight.zero_()
        model[2].weight.view(8, 8)[2:4, 2:4] = 1.0
    heat = explain(model, torch.ones(1, 1, 8, 8), 0, "occlusion", window=2, stride=2)
    assert heat[0, 0, 2:4, 2:4].min() > 0 and heat[0, 0].sum() == heat[0, 0, 2:4, 2:4].sum()


def test_rise_ranks_the_informative_region_highest():
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].bias.zero_()
        model[1].weight[0].view(8, 8)[:4, :4] = 0.25
    heat = explain(model, torch.ones(1, 1, 8, 8), 0, "rise", masks=500, cells=2)
    assert heat[0, 0, :4, :4].mean() > heat[0, 0, 4:, 4:].mean() + 0.05


def test_lrp_zero_equals_gradient_x_input_without_biases():
    torch.manual_seed(0)
    model = build_classifier("simple", num_classes=3, image_size=32).eval()
    with torch.no_grad():
        for module in model.modules():
            if getattr(module, "bias", None) is not None:
                module.bias.zero_()
    x = torch.rand(2, 3, 32, 32)
    target = torch.tensor([0, 2])
    assert torch.allclose(explain(model, x, target, "lrp_zero"),
                          explain(model, x, target, "gradient_x_input"), atol=1e-5, rtol=1e-3)


@pytest.fixture
def trained_looking_resnet():
    """A float64 ResNet18 whose batch norms have non-trivial statistics and biases, and an
    input batch: what a merged network must reproduce exactly."""
    torch.manual_seed(0)
    model = build_classifier("resnet18", num_classes=3, image_size=16, base_width=4).eval()
    model = model.double()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.01, 2.0)
                module.bias.normal_(0, 0.1)
    return model, torch.rand(2, 3, 16, 16, dtype=torch.float64)


def test_lrp_zero_equals_gradient_x_input_through_residual_sums_with_biases(
        trained_looking_resnet):
    """LRP-0 has no stabiliser, and batch norm merges exactly: zennit's default 1e-6 on
    residual sums and pooling made the two differ by 0.5 % of the largest value on such a
    network, and its merged batch norms (x / sqrt(1 + eps)) by 2e-5."""
    from common.explain.gradients import gradient_x_input
    from common.explain.lrp import relevance

    model, x = trained_looking_resnet
    target = torch.tensor([0, 2])
    lrp_zero = relevance(model, x, target, rule="zero")[0]
    reference = gradient_x_input(model, x, target)
    assert (lrp_zero - reference).abs().max() < 1e-7 * reference.abs().max()


def test_exact_batch_norm_merge_keeps_the_function_and_restores_the_model(
        trained_looking_resnet):
    from common.explain.lrp_rules import composite

    model, x = trained_looking_resnet
    before = {key: value.clone() for key, value in model.state_dict().items()}
    with torch.no_grad():
        expected = model(x)
        with composite(model, rule="zero").context(model) as merged:
            assert torch.allclose(merged(x), expected, rtol=1e-12, atol=1e-12)
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())


def test_lrp_conserves_relevance_block_by_block_through_residuals(images):
    """A bias-free ResNet (fresh batch norm is the identity, no fc bias): LRP-0 loses nothing.

    Every residual block's output, and the input, carries the target logit (to 0.1%).
    """
    from common.explain.lrp import relevance

    torch.manual_seed(2)
    model = build_classifier("resnet18", num_classes=4, image_size=16, base_width=4).eval()
    with torch.no_grad():
        model.fc.bias.zero_()
        model.fc.weight.mul_(100)  # logits of order 0.1, so a relative tolerance means something
    blocks = [block for stage in (model.layer1, model.layer2, model.layer3, model.layer4)
              for block in stage]
    at_input, at_blocks = relevance(model, images, TARGET, layers=blocks, rule="zero")
    with torch.no_grad():
        logit = model(images)[range(3), TARGET]
    for layer_relevance in [*at_blocks, at_input]:
        assert torch.allclose(layer_relevance.sum((1, 2, 3)), logit, rtol=1e-3, atol=1e-6)


def _without_biases(model: nn.Module) -> nn.Module:
    """Zero every additive term (batch-norm shifts, layer biases, the input mean) in float64:
    a network through which LRP-0 must carry the whole logit to every layer."""
    model = model.double()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.zero_()
                module.bias.zero_()
            elif getattr(module, "bias", None) is not None:
                module.bias.zero_()
            if hasattr(module, "normalise"):
                module.normalise.mean.zero_()
    return model


def _assert_conserved(model, x, layers):
    from common.explain.lrp import relevance

    with torch.no_grad():
        logits = model(x)
    target = logits.argmax(1)
    at_input, at_layers = relevance(model, x, target, layers=layers, rule="zero")
    for layer_relevance in [*at_layers, at_input]:
        assert torch.allclose(layer_relevance.sum(tuple(range(1, layer_relevance.ndim))),
                              logits[range(len(x)), target], rtol=1e-9)
    with torch.no_grad():
        assert torch.equal(model(x), logits)  # the canonizers left the model as it was


def test_lrp_conserves_relevance_through_efficientnet_lite_blocks():
    """EfficientNet-Lite0's MBConv blocks add their input in code and its padded convolutions
    hide their batch norms from zennit's leaf walk; canonised, every batch norm is merged, and
    every block output and the pixels carry the logit (uncanonised, LRP-0 gave NaN)."""
    from common.explain.lrp_rules import ExactMergeBatchNorm
    from common.models.pretrained import efficientnet_lite0

    model = _without_biases(efficientnet_lite0())
    merges = ExactMergeBatchNorm().apply(model)
    for merge in merges:
        merge.remove()
    assert len(merges) == sum(isinstance(module, nn.BatchNorm2d) for module in model.modules())
    x = torch.rand(2, 3, 64, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    _assert_conserved(model, x, list(model.network._blocks))
    assert all("forward" not in vars(block) and not hasattr(block, "canonizer_sum")
               for block in model.network._blocks)


def test_lrp_conserves_relevance_through_torchvision_bottlenecks_and_the_pv_head():
    """The zoo's ResNet-50 (torchvision bottlenecks, input normalisation, and the PV head's
    batch norm after the last ReLU), bias-free: every bottleneck and the pixels carry the logit."""
    torch.manual_seed(0)
    model = _without_biases(build_classifier("resnet50", num_classes=4, image_size=64).eval())
    with torch.no_grad():
        model.feature_norm[1].running_var.uniform_(0.5, 2.0)
    x = torch.rand(2, 3, 64, 64, dtype=torch.float64)
    _assert_conserved(model, x, [*model.layer1, *model.layer4])


def test_lrp_relevance_at_the_pixels_is_that_at_the_normalised_input():
    """Normalisation maps each pixel to one value, so relevance passes it unchanged; as a
    gradient it would be scaled by 1 / std (4.4 for ImageNet's statistics)."""
    from common.models.pretrained import Normalised

    torch.manual_seed(0)
    network = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                            nn.Flatten(), nn.Linear(4, 2, bias=False))
    model = Normalised(network, (0.0, 0.0, 0.0), (0.229, 0.224, 0.225)).double()
    _assert_conserved(model, torch.rand(3, 3, 8, 8, dtype=torch.float64), [])


def test_lrp_refuses_efficientnet_lite_in_training_mode():
    """The canonised MBConv forward has no drop connect, so it is the block's eval forward
    (``explain`` evaluates in eval mode; ``relevance`` is also called directly)."""
    from common.explain.lrp import relevance
    from common.models.pretrained import efficientnet_lite0

    model = efficientnet_lite0().train()
    before = {key: value.clone() for key, value in model.state_dict().items()}
    with pytest.raises(ValueError, match="eval mode"):
        relevance(model, torch.rand(1, 3, 32, 32), torch.tensor([0]))
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())


@pytest.mark.parametrize("name, block", [("mobilenet_v3_small", "InvertedResidual"),
                                         ("vit", "Block")])
def test_lrp_refuses_networks_with_sums_no_canonizer_rewrites(name, block):
    from common.models.pretrained import untrained_imagenet_architecture

    model = (build_classifier("vit", num_classes=3, image_size=32) if name == "vit"
             else untrained_imagenet_architecture(name))
    with pytest.raises(ValueError, match=f"LRP: .*{block}"):
        explain(model.eval(), torch.rand(1, 3, 32, 32), torch.tensor([0]), "lrp_epsilon")


def test_lrp_alpha1_beta0_keeps_the_sign_of_the_logit():
    """z+ passes only positive contributions: on a plain ReLU CNN with inputs >= 0 every
    input relevance has the sign of the output relevance (residual sums may mix signs)."""
    torch.manual_seed(4)
    model = build_classifier("simple", num_classes=3, image_size=32).eval()
    x = torch.rand(4, 3, 32, 32)
    target = torch.tensor([0, 1, 2, 0])
    relevance = explain(model, x, target, "lrp_alpha1_beta0")
    with torch.no_grad():
        sign = torch.sign(model(x)[range(4), target]).view(-1, 1, 1, 1)
    assert (relevance * sign >= -1e-7).all() and (relevance != 0).any()


def test_lrp_matches_zennit_reference_composite(resnet, images):
    """Our epsilon composite equals zennit's own Gradient attributor with the same rules."""
    from zennit.attribution import Gradient

    from common.explain.lrp_rules import composite

    resnet.eval()
    with Gradient(resnet, composite(resnet, rule="epsilon", epsilon=0.25)) as attributor:
        one_hot = torch.nn.functional.one_hot(TARGET, 4).float()
        _, reference = attributor(images, lambda output: output * one_hot)
    ours = explain(resnet, images, TARGET, "lrp_epsilon")
    assert torch.allclose(ours, reference * 1.0, atol=1e-6)


def test_lrp_of_the_zoo_resnet18_is_zennits_lrp_of_torchvisions_resnet18():
    """The same weights in both: the zoo's blocks canonised by ours, torchvision's by zennit's
    own ResNet canonizer, give the same relevance."""
    reference, model = torchvision_resnet18_and_zoo_copy(num_classes=3)
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    target = torch.tensor([0, 2])
    ours = explain(model, x, target, "lrp_epsilon")
    theirs = explain(reference, x, target, "lrp_epsilon")
    assert ours.abs().sum() > 0
    assert torch.allclose(ours, theirs, rtol=1e-4, atol=1e-6 * theirs.abs().max())


class CountedCalls(torch.overrides.TorchFunctionMode):
    """Counts the torch functions called inside it, by name."""

    def __init__(self):
        super().__init__()
        self.calls = collections.Counter()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls[getattr(func, "__name__", str(func))] += 1
        return func(*args, **(kwargs or {}))


def test_the_zoo_resnet18_adds_its_residuals_in_place_of_stacking_them_except_under_lrp(images):
    """A stacked copy summed over its last axis took a third of an inference pass at the
    embedded size; LRP still sees every block's sum as zennit's Sum (through the canonizer)."""
    from zennit.layer import Sum

    from common.explain.lrp_rules import composite

    model = build_classifier("resnet18", num_classes=4, image_size=16, base_width=4).eval()
    with torch.no_grad(), CountedCalls() as counted:
        model(images)
    assert counted.calls["stack"] == 0
    sums = []
    with composite(model).context(model) as canonised:
        handles = [module.register_forward_hook(lambda *_: sums.append(1))
                   for module in canonised.modules() if isinstance(module, Sum)]
        canonised(images)
        for handle in handles:
            handle.remove()
    assert len(sums) == 8  # four stages of two blocks
    assert not any(isinstance(module, Sum) for module in model.modules())


@pytest.mark.parametrize("name, channels, side", [
    ("vgg16", 512, 14), ("resnet50", 2048, 7), ("mobilenet_v3_small", 576, 7),
    ("efficientnet_lite0", 1280, 7)])
def test_cam_family_reads_the_last_convolutional_maps_before_any_pooling(name, channels, side):
    """At 224 px the last convolution of VGG16 gives 14 x 14 maps (its ``features`` ends in
    a max-pool that halves them), the others' last stages 7 x 7."""
    from common.explain.cam import feature_layer, recorded_output
    from common.models.pretrained import efficientnet_lite0, untrained_imagenet_architecture

    model = efficientnet_lite0() if name == "efficientnet_lite0" else \
        untrained_imagenet_architecture(name)
    with torch.no_grad(), recorded_output(feature_layer(model)) as record:
        model(torch.rand(1, 3, 224, 224))
    assert tuple(record["out"].shape) == (1, channels, side, side)
