"""Gradient-based attributions: plain gradients, SmoothGrad, Integrated Gradients, guided
backprop and DeconvNet. Batched; the result has the input's shape.

Captum serves where its behaviour is the paper's (Integrated Gradients, guided
backprop, DeconvNet, DeepLIFT; its hooks are removed before it returns). Plain
gradients, SmoothGrad and GradientSHAP are a few lines of torch: SmoothGrad's
noise must be a fraction of each image's range (Smilkov et al.), which Captum's
NoiseTunnel, with one absolute standard deviation for the whole batch, does not
offer, and both stochastic methods share one seeded draw across the batch.
"""

from __future__ import annotations

import torch
from torch import nn

from common import budget


def _target_logits(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return model(x).gather(1, target.view(-1, 1)).sum()


def input_gradient(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """d logit_target / d x for each image of the batch."""
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(_target_logits(model, x, target), x)
    return grad


def gradient(model, x, target, absolute: bool = False) -> torch.Tensor:
    """The gradient (B,C,H,W), or with ``absolute`` its maximum magnitude over channels (B,1,H,W).

    Simonyan et al. take the maximum absolute value over colour channels.
    """
    grad = input_gradient(model, x, target)
    return grad.abs().amax(1, keepdim=True) if absolute else grad


def gradient_x_input(model, x, target) -> torch.Tensor:
    """Elementwise gradient times input."""
    return input_gradient(model, x, target) * x


def smoothgrad(model, x, target, samples: int = 50, noise_level: float = 0.15,
               seed: int = 0) -> torch.Tensor:
    """Mean gradient over ``samples`` copies of each image with Gaussian noise (Smilkov et al.).

    The noise's standard deviation is ``noise_level`` times the image's own range
    (max - min), as in Smilkov et al. (2017), who found 10-20% best.
    """
    return _mean_over_noisy_copies(model, x, target, samples, noise_level, seed,
                                   reduce=lambda grads: grads)


def smoothgrad_saliency(model, x, target, samples: int = 50, noise_level: float = 0.15,
                        seed: int = 0) -> torch.Tensor:
    """The survey's SmoothGrad (its Eq. 8): the mean of the relevance maps of the noisy copies,
    R = max over channels of |d logit / d x| (Simonyan et al.), (B, 1, H, W).

    Smilkov et al. average the signed gradients (:func:`smoothgrad`); reducing that mean
    afterwards gives max_c |mean_i g_i|, never more than this mean_i max_c |g_i| and in
    general less. The survey compares SmoothGrad with the gradient map R, so its table
    needs this reduction. The noisy copies are :func:`smoothgrad`'s.
    """
    return _mean_over_noisy_copies(model, x, target, samples, noise_level, seed,
                                   reduce=lambda grads: grads.abs().amax(1, keepdim=True))


def _mean_over_noisy_copies(model, x, target, samples: int, noise_level: float, seed: int,
                            reduce) -> torch.Tensor:
    """The mean over ``samples`` noisy copies of each image of ``reduce(gradient)``.

    Every image of the batch gets the same standard-normal draws, scaled by
    ``noise_level`` times its own range and drawn at once, so an image's map depends
    neither on the batch it is explained in nor on how many copies fit in one pass
    (:mod:`common.budget`).
    """
    generator = torch.Generator(device=x.device).manual_seed(seed)
    draws = torch.randn((samples, 1, *x.shape[1:]), generator=generator, device=x.device)
    span = (x.amax(dim=(1, 2, 3)) - x.amin(dim=(1, 2, 3))).view(-1, 1, 1, 1)
    total = 0
    for noise in draws.split(budget.copies_per_pass(len(x))):
        noisy = (x.unsqueeze(0) + noise * noise_level * span).flatten(0, 1)
        reduced = reduce(input_gradient(model, noisy, target.repeat(len(noise))))
        total = total + reduced.view(len(noise), len(x), *reduced.shape[1:]).sum(0)
    return total / samples


def baseline_tensor(x: torch.Tensor, baseline: str | float) -> torch.Tensor:
    """The baseline image: ``"zero"`` (black), ``"mean"`` (each image's mean colour) or a value."""
    if baseline == "zero":
        return torch.zeros_like(x)
    if baseline == "mean":
        return x.mean(dim=(2, 3), keepdim=True).expand_as(x).contiguous()
    return torch.full_like(x, float(baseline))


def integrated_gradients(model, x, target, steps: int = 50, rule: str = "gausslegendre",
                         baseline: str | float = "zero") -> torch.Tensor:
    """Integrated Gradients (Sundararajan et al.) with Captum.

    ``rule`` is the quadrature: ``gausslegendre`` or ``riemann_trapezoid``
    (also ``riemann_left``, ``riemann_right``, ``riemann_middle``).
    """
    from captum.attr import IntegratedGradients  # imported on use: 0.5 s of start-up

    return IntegratedGradients(model).attribute(
        x, baselines=baseline_tensor(x, baseline), target=target, n_steps=steps, method=rule,
        internal_batch_size=budget.images_per_pass())


#: The rectifiers whose backward pass guided backprop and DeconvNet modify. Captum's
#: GuidedBackprop and Deconvolution hook nn.ReLU alone, so on a ReLU6 network
#: (EfficientNet-Lite, MobileNet) they silently return the plain gradient.
RECTIFIERS = (nn.ReLU, nn.ReLU6)


def _rectified_gradient(model: nn.Module, x, target, on_output: bool) -> torch.Tensor:
    """The input gradient with every rectifier's backward signal passed through a ReLU.

    ``on_output`` False (guided backprop): ReLU of the rectifier's own input gradient,
    i.e. the signal kept where the forward input was active and the signal positive.
    True (DeconvNet): ReLU of the signal arriving from above, the forward input ignored.
    These are Captum's definitions, applied to every module in ``RECTIFIERS``.
    """
    rectifiers = [module for module in model.modules() if isinstance(module, RECTIFIERS)]
    if not rectifiers:
        raise ValueError(f"{type(model).__name__} has no ReLU or ReLU6 module: guided "
                         f"backprop and DeconvNet would be the plain gradient")

    def rectify(module, grad_input, grad_output):
        return (torch.relu(grad_output[0] if on_output else grad_input[0]),)

    handles = [module.register_full_backward_hook(rectify) for module in rectifiers]
    try:
        return input_gradient(model, x, target)
    finally:
        for handle in handles:
            handle.remove()


def guided_backprop(model, x, target) -> torch.Tensor:
    """Guided backpropagation (Springenberg et al.) through every ReLU and ReLU6 module."""
    return _rectified_gradient(model, x, target, on_output=False)


def deconvnet(model, x, target) -> torch.Tensor:
    """DeconvNet (Zeiler and Fergus): backward ReLU on the signal, through every ReLU(6)."""
    return _rectified_gradient(model, x, target, on_output=True)


def gradient_shap(model, x, target, samples: int = 25, baseline: str | float = "zero",
                  noise: float = 0.0, seed: int = 0) -> torch.Tensor:
    """GradientSHAP (Lundberg and Lee): E[grad(b + a (x' - b)) * (x' - b)], a ~ U(0, 1).

    x' is x plus Gaussian noise of standard deviation ``noise`` (0 by default, as
    in Captum). The DXAI authors use a zero baseline and 25 samples. Written in
    torch rather than through Captum's GradientShap, which draws its random
    path positions per image from the global generator: here one seeded draw
    serves every image, so the call is deterministic, leaves the global random
    state alone, and an image's map does not depend on its batch.
    """
    generator = torch.Generator(device=x.device).manual_seed(seed)
    alphas = torch.rand(samples, generator=generator, device=x.device)
    noises = torch.randn((samples, 1, *x.shape[1:]), generator=generator, device=x.device)
    reference = baseline_tensor(x, baseline)
    total = torch.zeros_like(x)
    per_chunk = budget.copies_per_pass(len(x))
    for start in range(0, samples, per_chunk):
        alpha = alphas[start:start + per_chunk].view(-1, 1, 1, 1, 1)
        shifted = x.unsqueeze(0) + noise * noises[start:start + per_chunk]
        delta = shifted - reference.unsqueeze(0)
        points = (reference.unsqueeze(0) + alpha * delta).flatten(0, 1)
        grads = input_gradient(model, points, target.repeat(len(alpha)))
        total += (grads.view_as(delta) * delta).sum(0)
    return total / samples


def _require_rescale_rule_applies(model: nn.Module, x: torch.Tensor) -> None:
    """Raise unless Captum's DeepLIFT would apply the Rescale rule at every nonlinearity.

    Captum rescales only the module types in its ``SUPPORTED_NON_LINEAR`` and keeps
    one forward record per module: any other activation module (ReLU6 in
    EfficientNet-Lite, Hardswish in MobileNetV3, GELU in a ViT) would pass the
    plain gradient, and a module called twice per forward would pair the wrong
    inputs with its outputs. Either gives a map that is not DeepLIFT, without error.
    (Activations applied as functions cannot be seen; the zoo's models use modules.)
    """
    from captum.attr._core.deep_lift import SUPPORTED_NON_LINEAR
    from torch.nn.modules import activation

    activations = tuple(kind for kind in vars(activation).values()
                        if isinstance(kind, type) and kind.__module__ == activation.__name__)
    unsupported = sorted({type(module).__name__ for module in model.modules()
                          if isinstance(module, activations)
                          and type(module) not in SUPPORTED_NON_LINEAR})
    if unsupported:
        raise ValueError(f"DeepLIFT (Captum) has no Rescale rule for {unsupported} in "
                         f"{type(model).__name__}")
    calls: dict[str, int] = {}
    handles = [module.register_forward_hook(
        lambda module, inputs, output, name=name: calls.__setitem__(name, calls.get(name, 0) + 1))
        for name, module in model.named_modules() if type(module) in SUPPORTED_NON_LINEAR]
    try:
        with torch.no_grad():
            model(x[:1])
    finally:
        for handle in handles:
            handle.remove()
    shared = sorted(name for name, count in calls.items() if count > 1)
    if shared:
        raise ValueError(f"DeepLIFT (Captum) needs each nonlinearity to be its own module; "
                         f"{shared} are called more than once per forward pass")


def deeplift(model, x, target, baseline: str | float = "zero") -> torch.Tensor:
    """DeepLIFT with the Rescale rule (Shrikumar et al.), Captum's implementation.

    Refuses networks on which Captum would silently compute something else (see
    :func:`_require_rescale_rule_applies`); the zoo's models qualify.
    """
    _require_rescale_rule_applies(model, x)
    from captum.attr import DeepLift  # imported on use: 0.5 s of start-up

    return DeepLift(model).attribute(x.detach().requires_grad_(True),
                                     baselines=baseline_tensor(x, baseline), target=target)
