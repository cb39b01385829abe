"""Sanity checks for saliency maps (Adebayo et al. 2018).

A map that explains the model must change when the model does. Model-parameter
randomisation re-initialises the network's layers, from the logits down
(cascading) or one at a time (independent), and compares each map with the
trained model's map; data randomisation compares with a model trained on
permuted labels (trained by the workflow, see :func:`permuted_labels`). High
similarity after randomisation means the method does not depend on what the
model learnt. Similarities are SSIM, Spearman rank correlation and the Pearson
correlation of HOG features of the absolute maps, as in the paper.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator

import torch
from torch import nn

from common.data import ImageSplit
from common.explain import explain
from common.metrics.comparison import hog_pcc, spearman, ssim

SIMILARITIES = {"ssim": ssim, "spearman": spearman, "hog_pcc": hog_pcc}


def randomisation_stages(model: nn.Module) -> list[str]:
    """Names of the model's layers from the output down to the input.

    Sequential and ModuleList containers are opened, so each convolution, batch
    norm or dense layer of a plain stack is its own stage; any other module with
    parameters (a residual block, an attention block) is one stage.
    """
    def stages(module: nn.Module, prefix: str) -> Iterator[str]:
        for name, child in module.named_children():
            path = f"{prefix}{name}"
            if isinstance(child, nn.Sequential | nn.ModuleList):
                yield from stages(child, f"{path}.")
            elif any(True for _ in child.parameters()):
                yield path

    return list(stages(model, ""))[::-1]


def reinitialise(model: nn.Module, stages: list[str], seed: int) -> nn.Module:
    """A copy of ``model`` whose ``stages`` are re-initialised as at construction.

    Every submodule with ``reset_parameters`` draws fresh weights from its own
    initialiser (Kaiming-uniform convolutions and dense layers); batch norm gets
    its initial affine parameters and running statistics back, so nothing the
    trained model learnt survives in a randomised stage. The weights are drawn on the
    CPU, so a model on a GPU gets the same ones, and the global random state is left
    as it was.
    """
    device = next(model.parameters()).device
    randomised = copy.deepcopy(model).cpu()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for stage in stages:
            for module in randomised.get_submodule(stage).modules():
                if hasattr(module, "reset_parameters"):
                    with torch.no_grad():
                        module.reset_parameters()
    return randomised.to(device).eval()


def absolute_map(attribution: torch.Tensor) -> torch.Tensor:
    """The channel sum of the absolute attribution, (B, 1, H, W): the paper's absolute maps."""
    return attribution.abs().sum(1, keepdim=True)


def similarities(reference: torch.Tensor, other: torch.Tensor) -> dict[str, torch.Tensor]:
    """SSIM, Spearman and HOG-PCC of two batches of absolute maps, per image."""
    return {name: function(absolute_map(reference), absolute_map(other))
            for name, function in SIMILARITIES.items()}


def parameter_randomisation(model: nn.Module, x: torch.Tensor, target: torch.Tensor,
                            method: str, cascading: bool = True, seed: int = 0,
                            keep_maps: bool = False, reference: torch.Tensor | None = None,
                            **params) -> list[dict]:
    """Similarity of each randomised model's map to the trained model's, stage by stage.

    Returns one record per stage: {"stage", "randomised" (the stages
    re-initialised), and one (B,) tensor per similarity}, plus the randomised
    model's attribution under "attribution" with ``keep_maps`` (to score it
    otherwise, e.g. against object masks). Cascading randomises every stage from
    the output down to this one; independent only this one. ``reference`` is the
    trained model's map where the caller has it already (the methods are
    deterministic: computing it again gives the same map).
    """
    if reference is None:
        reference = explain(model, x, target, method, **params)
    names = randomisation_stages(model)
    records = []
    for depth, stage in enumerate(names):
        randomised_stages = names[:depth + 1] if cascading else [stage]
        randomised = reinitialise(model, randomised_stages, seed)
        attribution = explain(randomised, x, target, method, **params)
        records.append({"stage": stage, "randomised": randomised_stages,
                        **similarities(reference, attribution),
                        **({"attribution": attribution} if keep_maps else {})})
    return records


def permuted_labels(split: ImageSplit, seed: int) -> ImageSplit:
    """The split with its labels randomly permuted: the data-randomisation test's training set.

    A permutation keeps the class frequencies while destroying every relation
    between image and label, so a network can only memorise.
    """
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(split), generator=generator)
    return dataclasses.replace(split, labels=split.labels[order])
