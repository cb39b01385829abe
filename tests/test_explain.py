"""Attribution methods: identities, agreement with independent code, and the call contract."""

import pytest
import torch
from captum.attr import Saliency
from torch import nn

from common.explain import METHODS, explain
from common.models import build_classifier


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    model = build_classifier("resnet18", num_classes=4, image_size=16, base_width=4)
    model.train()  # give batch norm non-trivial running statistics
    with torch.no_grad():
        for _ in range(3):
            model(torch.rand(8, 3, 16, 16))
    return model.eval()


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
