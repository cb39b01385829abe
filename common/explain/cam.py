"""The CAM family on a network's last convolutional feature maps, in batched torch.

CAM, Grad-CAM, Grad-CAM++, EigenGrad-CAM and FEM differ only in how they weight
or combine the feature maps A_k; each is a short function over
:func:`_activations_and_gradients`.

Every method takes the layer it reads as a module or as its dotted path in the
model (:func:`resolve_layer`); without one, the :func:`feature_layer`. The feature
maps are read with a forward hook that is removed before the call returns. Maps
are upsampled bilinearly to the input size, as in the papers.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn

from common import budget


def feature_rectifier(model: nn.Module):
    """What the network applies to :func:`feature_layer`'s output before using it.

    EfficientNet-Lite's ``_bn1`` is read before its ReLU6 (that module is shared
    and cannot be hooked alone), so its features are the clamp to [0, 6]; the
    other networks' feature layers end in their rectifier (nothing to apply).
    """
    network = getattr(model, "network", model)
    if isinstance(getattr(network, "_bn1", None), nn.Module) and \
            isinstance(getattr(network, "_swish", None), nn.ReLU6):
        return network._swish
    return nn.Identity()


#: Modules that only pool: the CAM family reads the feature maps before them.
POOLING = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveMaxPool2d, nn.AdaptiveAvgPool2d)


def feature_layer(model: nn.Module) -> nn.Module:
    """The last convolutional stage's output, before any pooling: ``layer4`` of a ResNet,
    ``features`` of the zoo's and torchvision's other CNNs without the pooling it may end
    in (torchvision's VGG16 ends in a max-pool: its last ReLU gives the 14 x 14 maps of a
    224-px image, where the pool would give 7 x 7), ``_bn1`` of EfficientNet-Lite (its
    head's batch norm: the ReLU6 after it is a module shared with the stem, so it cannot
    be hooked alone). A wrapper with a ``network`` attribute (``Normalised``) is looked
    through."""
    network = getattr(model, "network", model)
    for name in ("layer4", "features", "_bn1"):
        if isinstance(getattr(network, name, None), nn.Module):
            return _before_pooling(getattr(network, name))
    raise ValueError(f"{type(network).__name__} has no 'layer4', 'features' or '_bn1' module; "
                     f"pass layer= explicitly")


def _before_pooling(stage: nn.Module) -> nn.Module:
    """A Sequential stage's last module that is not a trailing pooling layer (or the stage)."""
    if not isinstance(stage, nn.Sequential):
        return stage
    children = list(stage)
    while children and isinstance(children[-1], POOLING):
        children.pop()
    return children[-1] if children and len(children) < len(stage) else stage


@contextlib.contextmanager
def recorded_output(layer: nn.Module):
    """Record ``layer``'s output during the forward passes inside the context."""
    record: dict[str, torch.Tensor] = {}
    handle = layer.register_forward_hook(lambda module, args, output: record.update(out=output))
    try:
        yield record
    finally:
        handle.remove()


def _upsample(maps: torch.Tensor, size) -> torch.Tensor:
    return F.interpolate(maps, size=size, mode="bilinear", align_corners=False)


def resolve_layer(model: nn.Module, layer: nn.Module | str | None) -> nn.Module:
    """The module ``layer`` names in ``model``: a module is itself, a dotted path (e.g.
    ``layer4.0.conv1``) the submodule there, None the :func:`feature_layer`. Every method of
    this module takes its ``layer`` through here, so a caller passes whichever it holds."""
    if layer is None:
        return feature_layer(model)
    return model.get_submodule(layer) if isinstance(layer, str) else layer


def _activations_and_gradients(model, x, target, layer: nn.Module | str | None = None):
    """Feature maps A (B,K,h,w) of ``layer`` and the target logit's gradient with respect to A.

    The input requires a gradient so that A is in the graph even when the model's
    parameters are frozen (as the pretrained ImageNet wrappers are).
    """
    with recorded_output(resolve_layer(model, layer)) as record, torch.enable_grad():
        logits = model(x.detach().requires_grad_(True))
    activations = record["out"]
    (grads,) = torch.autograd.grad(logits.gather(1, target.view(-1, 1)).sum(), activations)
    return activations.detach(), grads


def grad_cam(model, x, target, layer: nn.Module | str | None = None) -> torch.Tensor:
    """Grad-CAM (Selvaraju et al.): ReLU(sum_k mean(dy_c/dA_k) * A_k), (B,1,H,W)."""
    activations, grads = _activations_and_gradients(model, x, target, layer)
    weights = grads.mean(dim=(2, 3), keepdim=True)
    maps = F.relu((weights * activations).sum(1, keepdim=True))
    return _upsample(maps, x.shape[-2:])


def grad_cam_plus_plus(model, x, target, layer: nn.Module | str | None = None) -> torch.Tensor:
    """Grad-CAM++ (Chattopadhyay et al., Eq. 19 with the exponential output).

    alpha = g^2 / (2 g^2 + sum_ab A_ab g^3), w_k = sum_ij alpha ReLU(g), map = ReLU(sum_k w_k A_k).
    """
    activations, grads = _activations_and_gradients(model, x, target, layer)
    spatial_sum = activations.sum(dim=(2, 3), keepdim=True)
    alpha = grads ** 2 / (2 * grads ** 2 + spatial_sum * grads ** 3 + 1e-6)
    alpha = torch.where(grads != 0, alpha, torch.zeros_like(alpha))
    weights = (alpha * F.relu(grads)).sum(dim=(2, 3), keepdim=True)
    maps = F.relu((weights * activations).sum(1, keepdim=True))
    return _upsample(maps, x.shape[-2:])


def eigen_grad_cam(model, x, target, layer: nn.Module | str | None = None) -> torch.Tensor:
    """EigenGrad-CAM: the first principal component of the gradient-weighted feature maps.

    Each image's (h*w, K) matrix of A * dy_c/dA is centred over positions and
    projected on its first right singular vector. The vector's sign is arbitrary,
    so it is fixed here: the projection must correlate positively with
    sum_k A_k dy_c/dA_k (the unpooled Grad-CAM evidence). ReLU, as for Grad-CAM.
    """
    activations, grads = _activations_and_gradients(model, x, target, layer)
    weighted = (activations * grads).flatten(2).transpose(1, 2)  # (B, hw, K)
    centred = weighted - weighted.mean(1, keepdim=True)
    _, _, right = torch.linalg.svd(centred, full_matrices=False)
    projection = (centred @ right[:, 0, :].unsqueeze(-1)).squeeze(-1)  # (B, hw)
    evidence = weighted.sum(-1)
    evidence = evidence - evidence.mean(1, keepdim=True)
    sign = torch.sign((projection * evidence).sum(1, keepdim=True))
    sign = torch.where(sign == 0, torch.ones_like(sign), sign)
    maps = F.relu(sign * projection).view(len(x), 1, *activations.shape[-2:])
    return _upsample(maps, x.shape[-2:])


def feature_explanation_map(model, x, target=None, layer: nn.Module | str | None = None,
                            k: float = 1.0) -> torch.Tensor:
    """FEM (Fuad et al.), as defined in shared/papers/NOTES.md; class-agnostic.

    B_k = [A_k >= mu_k + k sigma_k] with the spatial mean and standard deviation
    of channel k; map = sum_k mu_k B_k, normalised to [0, 1]. The survey states
    k = 1 (the default here); the reference implementations default to 2. A_k
    are the rectified features (Fuad et al. take them after the ReLU): a
    pre-activation channel with a negative mean would invert its contribution.
    An explicit ``layer`` is read as it is: pass a layer that ends in its rectifier.
    The other CAM methods read EfficientNet-Lite's ``_bn1`` before the ReLU6, as
    Grad-CAM implementations commonly target it; their weighting does not assume
    non-negative features.
    """
    del target  # FEM explains the features, not a class
    rectify = nn.Identity() if layer is not None else feature_rectifier(model)
    with torch.no_grad(), recorded_output(resolve_layer(model, layer)) as record:
        model(x)
    activations = rectify(record["out"])
    mean = activations.mean(dim=(2, 3), keepdim=True)
    std = activations.std(dim=(2, 3), keepdim=True, unbiased=False)
    binary = (activations >= mean + k * std).float()
    maps = (mean * binary).sum(1, keepdim=True)
    low, high = maps.amin(dim=(2, 3), keepdim=True), maps.amax(dim=(2, 3), keepdim=True)
    maps = (maps - low) / (high - low).clamp(min=1e-12)
    return _upsample(maps, x.shape[-2:])


def guided_grad_cam(model, x, target, layer: nn.Module | str | None = None) -> torch.Tensor:
    """Guided Grad-CAM: guided backpropagation times the bilinearly upsampled Grad-CAM.

    Selvaraju et al. upsample bilinearly; Captum's GuidedGradCam defaults to nearest.
    """
    from common.explain.gradients import guided_backprop

    return guided_backprop(model, x, target) * grad_cam(model, x, target, layer)


def internal_influence(model, x, target, layer: nn.Module | str | None = None,
                       steps: int = 50, baseline: str | float = "zero") -> torch.Tensor:
    """Internal Influence (Leino et al.) at ``layer``, as the DXAI authors use it.

    Captum's InternalInfluence at the layer, then ReLU, the mean over channels
    and bilinear upsampling to the input size. Without ``layer``: the feature layer,
    as for the CAM family (the DXAI authors' ``layer4.0.conv1`` is theirs to pass).
    The path starts at ``baseline`` (:func:`common.explain.gradients.baseline_tensor`:
    ``"zero"``, ``"mean"`` or a value); Captum's default is zero, which is grey on
    the DXAI authors' [-1, 1] images and 0.5 on these [0, 1] ones.
    """
    from captum.attr import InternalInfluence

    from common.explain.gradients import baseline_tensor

    influence = InternalInfluence(model, resolve_layer(model, layer)).attribute(
        x, baselines=baseline_tensor(x, baseline), target=target, n_steps=steps,
        internal_batch_size=budget.images_per_pass())
    return _upsample(F.relu(influence).mean(1, keepdim=True), x.shape[-2:])


def class_activation_map(model, x, target, layer: nn.Module | str | None = None,
                         classifier: nn.Linear | None = None) -> torch.Tensor:
    """CAM (Zhou et al.): sum_k w_{c,k} A_k for a network that is GAP then one linear layer.

    Signed (no ReLU), as defined; ``classifier`` defaults to the model's ``fc``.
    """
    classifier = classifier or getattr(model, "fc", None)
    if not isinstance(classifier, nn.Linear):
        raise ValueError("CAM needs a global-average-pooling network ending in one nn.Linear")
    with torch.no_grad(), recorded_output(resolve_layer(model, layer)) as record:
        model(x)
    weights = classifier.weight[target]  # (B, K)
    maps = torch.einsum("bk,bkhw->bhw", weights, record["out"]).unsqueeze(1)
    return _upsample(maps, x.shape[-2:])
