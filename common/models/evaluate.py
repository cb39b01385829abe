"""Test-set scores of a trained classifier, for single- and multi-label data."""

from __future__ import annotations

import numpy as np
import torch

from common.data import ImageSplit


def test_scores(probabilities: torch.Tensor, split: ImageSplit) -> dict:
    """Accuracy per class and overall; for multi-label data also mAP and exact match.

    Multi-label accuracy is per-label accuracy at probability 0.5 (averaged over
    labels); mAP is the mean over classes of average precision (the VOC metric).
    """
    labels = split.labels
    if split.task == "multi_label":
        # Imported here: scikit-learn takes a second to import, and most jobs score
        # single-label data or none.
        from sklearn.metrics import average_precision_score

        decisions = probabilities > 0.5
        truth = labels > 0.5
        per_class = (decisions == truth).float().mean(0)
        average_precision = average_precision_score(truth.numpy(), probabilities.numpy(),
                                                    average=None)
        return {"test_accuracy": per_class.mean().item(),
                "per_class_accuracy": dict(zip(split.classes, per_class.tolist(), strict=True)),
                "test_map": float(np.mean(average_precision)),
                "per_class_average_precision": dict(zip(split.classes,
                                                        average_precision.tolist(), strict=True)),
                "exact_match": (decisions == truth).all(1).float().mean().item()}
    correct = probabilities.argmax(1) == labels
    per_class = {name: correct[labels == index].float().mean().item()
                 for index, name in enumerate(split.classes)}
    return {"test_accuracy": correct.float().mean().item(), "per_class_accuracy": per_class}
