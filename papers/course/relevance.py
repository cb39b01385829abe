"""Layer-wise relevance propagation as the course teaches it (Montavon et al. 2019).

- The linear-model counterexample: on f(x) = b + sum_d w_d x_d two decompositions
  conserve f(x), but only the contribution-based one, R_d = b/V + w_d x_d, agrees
  with what removing a feature does; the proportional one,
  R_d = f(x) |w_d x_d| / sum |w x|, gives every feature the sign of f(x).
- Conservation layer by layer, and LRP-0 equal to gradient x input, on a trained
  ReLU network: the maps through the method registry (``common.explain.explain``),
  the relevance at each layer through ``common.explain.lrp`` (zennit) under the
  registry's check that the model comes back unchanged.
- The rules' effect (epsilon, gamma) on real photographs, measured by the share of
  negative relevance and how concentrated the relevance is.
"""

from __future__ import annotations

import torch
from torch import nn

from common.explain import explain, left_unchanged
from common.explain.lrp import relevance


def proportional_decomposition(contributions: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """R_d = f(x) |w_d x_d| / sum_d |w_d x_d| for contributions w_d x_d (B, V) and bias (B,)."""
    output = contributions.sum(1) + bias
    magnitude = contributions.abs()
    return output.unsqueeze(1) * magnitude / magnitude.sum(1, keepdim=True).clamp(min=1e-12)


def contribution_decomposition(contributions: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """R_d = b / V + w_d x_d: the bias shared equally, each feature keeping its own term."""
    return contributions + (bias / contributions.shape[1]).unsqueeze(1)


DECOMPOSITIONS = {"proportional": proportional_decomposition,
                  "contribution": contribution_decomposition}


def _row_pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp(min=1e-12)


def linear_counterexample(weights: torch.Tensor, bias: torch.Tensor, x: torch.Tensor,
                          target: torch.Tensor) -> list[dict]:
    """Both decompositions of a linear model's target score on images ``x`` (B, V), scored
    per image against the effect of removing each feature (setting it to zero), which
    is exactly w_d x_d for a linear model; means over the images, one row each."""
    contributions = weights[target] * x
    output = contributions.sum(1) + bias[target]
    opposing = contributions < 0
    rows = []
    for name, decompose in DECOMPOSITIONS.items():
        scores = decompose(contributions, bias[target])
        negative = (scores < 0).float()
        rows.append({
            "decomposition": name,
            "images": len(x),
            "conservation_error": (scores.sum(1) - output).abs().max().item(),
            "pearson_with_removal_effect": _row_pearson(scores, contributions).mean().item(),
            "negative_share": negative.mean().item(),
            "opposing_features_positive": ((scores > 0) & opposing).sum().item()
            / max(opposing.sum().item(), 1),
        })
    return rows


def conservation_by_layer(model: nn.Module, x: torch.Tensor, target: torch.Tensor,
                          layers: dict[str, nn.Module], **rule) -> dict[str, torch.Tensor]:
    """Sum of the relevance at the input and at each named layer's output, divided by the
    target logit that LRP starts from, per image: 1 everywhere means exact conservation."""
    with torch.no_grad():
        logit = model(x).gather(1, target.view(-1, 1)).squeeze(1)
    with left_unchanged(model, "LRP at the layers"):
        at_input, at_layers = relevance(model, x, target, layers=list(layers.values()), **rule)
    sums = {name: r.flatten(1).sum(1) for name, r in zip(layers, at_layers, strict=True)}
    sums["input"] = at_input.flatten(1).sum(1)
    return {name: total / logit for name, total in sums.items()}


def lrp_zero_gap(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> float:
    """max |LRP-0 - gradient x input| / max |gradient x input|: zero on a ReLU network,
    biases included (each bias sits in its layer's denominator)."""
    lrp_zero = explain(model, x, target, "lrp_zero")
    reference = explain(model, x, target, "gradient_x_input")
    return ((lrp_zero - reference).abs().max() / reference.abs().max()).item()


def rule_maps(model: nn.Module, x: torch.Tensor, target: torch.Tensor,
              rules: dict[str, dict]) -> dict[str, torch.Tensor]:
    """Channel-summed LRP maps (B, H, W) per display name, each ``rule`` (keyword arguments
    of :func:`common.explain.lrp.lrp`) run as the registry's method of its rule
    (``lrp_zero``, ``lrp_epsilon``, ``lrp_gamma``, ...)."""
    return {name: explain(model, x, target, f"lrp_{rule['rule']}", **rule).sum(1)
            for name, rule in rules.items()}


def concentration(maps: torch.Tensor, top: float = 0.1) -> torch.Tensor:
    """Share of the absolute relevance held by the ``top`` fraction of pixels, per map."""
    flat = maps.abs().flatten(1)
    count = max(1, round(top * flat.shape[1]))
    return flat.topk(count, dim=1).values.sum(1) / flat.sum(1).clamp(min=1e-12)


def negative_share(maps: torch.Tensor) -> torch.Tensor:
    """Share of the absolute relevance that is negative (evidence against), per map."""
    flat = maps.flatten(1)
    return flat.clamp(max=0).abs().sum(1) / flat.abs().sum(1).clamp(min=1e-12)
