"""Attribution methods behind one call: ``explain(model, x, target, method, **params)``.

Contract (shared/ARCHITECTURE.md): ``x`` is (B, C, H, W) on any device; the
result is (B, 1 or C, H, W) on that device; images are explained in batches;
a method that draws random numbers takes a ``seed``; the model leaves the call
exactly as it came (parameters, buffers, train/eval mode, no hooks).

Each method is registered with the parameters the papers use as defaults;
``params`` override them. Where a library's default differs from the paper,
the registry sets the paper's value explicitly.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from common import budget
from common.signatures import Parameter, source_parameters, yaml_types

if TYPE_CHECKING:
    import torch
    from torch import nn


class MethodFunction:
    """A method's function, named by its module below ``common.explain`` and imported at its
    first use: the registry, and the configuration checks that read names and parameters
    from it, then need no torch (a second of every Snakemake call). Calling it calls the
    function; ``inspect.signature`` sees the function's (through ``__wrapped__``)."""

    def __init__(self, module: str, name: str):
        self.module = f"common.explain.{module}"
        self.name = name

    @functools.cached_property
    def __wrapped__(self) -> Callable[..., torch.Tensor]:
        return getattr(importlib.import_module(self.module), self.name)

    def __call__(self, *args, **kwargs) -> torch.Tensor:
        return self.__wrapped__(*args, **kwargs)

    def __repr__(self) -> str:
        return f"{self.module}.{self.name}"

    def parameters(self) -> list[Parameter]:
        """The function's parameters as its source declares them (no import)."""
        return source_parameters(self.module, self.name)


def _function(qualified: str) -> MethodFunction:
    """``"module.function"`` below ``common.explain`` as a :class:`MethodFunction`."""
    return MethodFunction(*qualified.split("."))


@dataclass(frozen=True)
class Method:
    """One attribution method: the function, its paper-default parameters, and how many
    copies of each image its smallest forward pass holds (DeepLIFT passes every image with
    its baseline: two), which sets how many images :func:`explain` hands it at once."""

    function: Callable[..., torch.Tensor]  # a MethodFunction in the registry
    defaults: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    copies_per_image: int = 1


METHODS: dict[str, Method] = {
    "gradient": Method(_function("gradients.gradient"), {"absolute": False},
                       "signed gradient of the target logit (Simonyan et al.)"),
    "saliency": Method(_function("gradients.gradient"), {"absolute": True},
                       "absolute gradient, maximum over channels (Simonyan et al.)"),
    "gradient_x_input": Method(_function("gradients.gradient_x_input"), {},
                               "gradient times input"),
    "smoothgrad": Method(_function("gradients.smoothgrad"),
                         {"samples": 50, "noise_level": 0.15, "seed": 0},
                         "mean gradient over Gaussian noise of sigma = 15% of the input range"),
    "smoothgrad_saliency": Method(_function("gradients.smoothgrad_saliency"),
                                  {"samples": 50, "noise_level": 0.15, "seed": 0},
                                  "the survey's Eq. 8: mean saliency map (max_c |gradient|) "
                                  "over SmoothGrad's noisy copies"),
    "integrated_gradients": Method(_function("gradients.integrated_gradients"),
                                   {"steps": 50, "rule": "gausslegendre", "baseline": "zero"},
                                   "path integral of gradients from a baseline (Sundararajan)"),
    "guided_backprop": Method(_function("gradients.guided_backprop"), {},
                              "gradients with negative values stopped at every ReLU"),
    "deconvnet": Method(_function("gradients.deconvnet"), {},
                        "ReLU applied to the backward signal instead of the forward mask"),
    "cam": Method(_function("cam.class_activation_map"), {},
                  "CAM: classifier weights times last feature maps (GAP networks)"),
    "gradcam": Method(_function("cam.grad_cam"), {},
                      "Grad-CAM: ReLU of gradient-weighted feature maps"),
    "guided_gradcam": Method(_function("cam.guided_grad_cam"), {},
                             "guided backprop times bilinearly upsampled Grad-CAM"),
    "gradcam_plus_plus": Method(_function("cam.grad_cam_plus_plus"), {}, "Grad-CAM++ (Eq. 19)"),
    "eigen_gradcam": Method(_function("cam.eigen_grad_cam"), {},
                            "first principal component of gradient x activation, sign fixed"),
    "fem": Method(_function("cam.feature_explanation_map"), {"k": 1.0},
                  "Feature Explanation Method; k = 1 as the survey states"),
    "internal_influence": Method(_function("cam.internal_influence"), {"steps": 50},
                                 "Internal Influence at the feature layer, channel mean"),
    "gradient_shap": Method(_function("gradients.gradient_shap"),
                            {"samples": 25, "baseline": "zero", "seed": 0},
                            "GradientSHAP, zero baseline, 25 samples (DXAI authors)"),
    "deeplift": Method(_function("gradients.deeplift"), {"baseline": "zero"},
                       "DeepLIFT, Rescale rule", copies_per_image=2),
    "occlusion": Method(_function("perturbation.occlusion"), {},
                        "occlusion of 1/8-side windows by zeros"),
    "lrp_zero": Method(_function("lrp.lrp"), {"rule": "zero"}, "LRP-0 on every layer"),
    "lrp_epsilon": Method(_function("lrp.lrp"), {"rule": "epsilon", "epsilon": 0.25},
                          "LRP-epsilon on every layer"),
    "lrp_epsilon_no_bias": Method(_function("lrp.lrp"),
                                  {"rule": "epsilon", "epsilon": 0.25, "bias": False},
                                  "LRP-epsilon with biases left out of the rule"),
    "lrp_gamma": Method(_function("lrp.lrp"), {"rule": "gamma", "gamma": 0.25},
                        "LRP-gamma on every layer"),
    "lrp_alpha1_beta0": Method(_function("lrp.lrp"), {"rule": "alpha_beta", "beta": 0.0},
                               "LRP-alpha1-beta0 (z+) on every layer"),
    "lrp_alpha2_beta1": Method(_function("lrp.lrp"), {"rule": "alpha_beta", "beta": 1.0},
                               "LRP-alpha2-beta1 on every layer"),
    "rise": Method(_function("perturbation.rise"),
                   {"masks": 4000, "cells": 7, "keep": 0.5, "seed": 0}, "RISE, paper defaults"),
    "lime": Method(_function("lime.lime"), {"samples": 1000, "segments": 50, "keep": 0.5,
                                            "kernel_width": 0.25, "baseline": "mean", "seed": 0},
                   "LIME on SLIC superpixels, LIME's image defaults otherwise"),
    "random": Method(_function("baselines.random_map"), {"seed": 0},
                     "uniform noise: the baseline (DXAI's random decomposition)"),
}


#: What a configuration may set each numeric parameter of a method to, by parameter name.
PARAMETER_BOUNDS: dict[str, tuple[str, Callable[[float], bool]]] = {
    **{count: ("at least 1", lambda value: value >= 1)
       for count in ("samples", "steps", "masks", "cells", "segments", "window", "stride")},
    **{scale: ("at least 0", lambda value: value >= 0)
       for scale in ("seed", "noise_level", "noise", "epsilon", "gamma", "beta", "k", "alpha")},
    **{scale: ("above 0", lambda value: value > 0) for scale in ("kernel_width", "compactness")},
    "keep": ("above 0 and at most 1", lambda value: 0 < value <= 1),
}


def parameter_errors(key: str, method: str, params: dict[str, Any]) -> list[str]:
    """Why ``params`` (set at config key ``key``) cannot be passed to ``method``: a name its
    function does not take, a value of a type its signature does not name, a number out of
    :data:`PARAMETER_BOUNDS`. Empty when they can. The signature is read from the source
    (:mod:`common.signatures`): the configuration checks import no torch."""
    after_model_x_target = METHODS[method].function.parameters()[3:]
    declared = {parameter.name: parameter.annotation for parameter in after_model_x_target}
    errors = []
    for name, value in params.items():
        if name not in declared:
            errors.append(f"config key '{key}.{name}': {method} takes no parameter {name!r} "
                          f"(it takes {', '.join(declared) or 'none'})")
            continue
        types = yaml_types(declared[name])
        if float in types:
            types.append(int)
        if not any(type(value) is kind for kind in types):
            errors.append(f"config key '{key}.{name}': {value!r} is not of type "
                          f"{' or '.join(_yaml_name(kind) for kind in types) or 'a YAML value'}")
        elif name in PARAMETER_BOUNDS and not isinstance(value, (bool, str, type(None))):
            bound, holds = PARAMETER_BOUNDS[name]
            if not holds(value):
                errors.append(f"config key '{key}.{name}': {value!r} must be {bound}")
    return errors


def _yaml_name(kind: type) -> str:
    return "null" if kind is type(None) else kind.__name__


def _model_state(model: nn.Module) -> tuple:
    hooks = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
                + len(m._backward_pre_hooks) for m in model.modules())
    return model.training, hooks, [p.requires_grad for p in model.parameters()]


@contextlib.contextmanager
def left_unchanged(model: nn.Module, culprit: str) -> Iterator[None]:
    """Run the code inside with ``model`` in eval mode, then restore its mode; raise if the
    code changed its mode, gradient flags or hooks (``culprit`` names it in the error).

    :func:`explain` wraps every method in it; code that needs more than one map from a
    method's pass (the course's relevance at each layer) wraps its call the same way.
    """
    before = _model_state(model)
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)
    if _model_state(model) != before:
        raise RuntimeError(f"{culprit} changed the model's mode, flags or hooks")


def explain(model: nn.Module, x: torch.Tensor, target: torch.Tensor | int, method: str,
            **params) -> torch.Tensor:
    """Attribution of ``target`` (class index, per image or for all) for inputs ``x``.

    The model is evaluated in eval mode and restored to its mode, gradient flags
    and hooks afterwards; a method that leaves a hook behind is an error
    (:func:`left_unchanged`). The images are explained in chunks that keep every
    forward pass within the memory budget (:mod:`common.budget`); each method's map
    of an image does not depend on its chunk.
    """
    if method not in METHODS:
        raise KeyError(f"unknown attribution method {method!r}; known: {sorted(METHODS)}")
    entry = METHODS[method]
    if len(x) == 0:
        raise ValueError(f"method {method!r}: no images to explain (x has shape {tuple(x.shape)})")
    import torch

    if isinstance(target, int):
        target = torch.full((len(x),), target, dtype=torch.long, device=x.device)
    target, arguments = target.to(x.device), {**entry.defaults, **params}
    with left_unchanged(model, f"method {method!r}"):
        attribution = torch.cat([entry.function(model, x[part], target[part], **arguments)
                                 for part in budget.image_chunks(len(x), entry.copies_per_image)])
    return attribution.detach()
