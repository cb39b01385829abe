"""The survey's Table 1 from per-image scores: each method's SIM and PCC against the density
maps, every metric with its own image count, beside the values the survey printed."""

from __future__ import annotations

import pandas as pd

#: The survey's Table 1 (MexCulture, VGG16): method -> (SIM mean, SIM std, PCC mean, PCC std).
#: Its "LRP" names no rule; LRP-epsilon stands for it here (the first rule of its Fig. 10).
#: Its SmoothGrad is Eq. 8, the mean gradient map R over noisy copies: smoothgrad_saliency.
PAPER_TABLE1 = {
    "saliency": ("Gradient Backprop", 0.4982, 0.051, 0.2422, 0.142),
    "guided_backprop": ("Guided Backprop", 0.5724, 0.063, 0.0779, 0.067),
    "smoothgrad_saliency": ("SmoothGrad", 0.5769, 0.062, 0.1867, 0.113),
    "integrated_gradients": ("Integrated Gradients", 0.5747, 0.063, 0.1390, 0.082),
    "gradcam": ("Grad-CAM", 0.5857, 0.104, 0.3969, 0.290),
    "lrp_epsilon": ("LRP", 0.5728, 0.063, 0.0754, 0.069),
    "deeplift": ("DeepLIFT", 0.5846, 0.063, 0.2749, 0.081),
    "fem": ("FEM", 0.5999, 0.087, 0.3558, 0.289),
}
METRICS = ("sim", "pcc")
#: The two kinds of map Table 1 compares explanations with, as its ``reference`` column says.
RECORDED_GAZE, SIMULATED_OBSERVERS = "recorded gaze", "simulated observers"


def summary_table(scores: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Table 1: per method, the mean and sample std of SIM and PCC and the images each is over.

    ``scores`` has one row per method, metric and image. PCC is undefined (NaN) where a
    map is constant (an all-zero Grad-CAM, say): that image leaves the PCC mean but not
    the SIM mean, so ``pcc_images`` may be below ``sim_images`` and each is reported.
    """
    statistics = scores.groupby(["method", "metric"])["score"].agg(
        mean="mean", std="std", images="count").unstack("metric")
    statistics.columns = [f"{metric}_{statistic}" for statistic, metric in statistics.columns]
    summary = statistics.reset_index()
    summary["reference"] = reference
    paper = pd.DataFrame([(method, *values) for method, values in PAPER_TABLE1.items()],
                         columns=["method", "paper_name", "paper_sim_mean", "paper_sim_std",
                                  "paper_pcc_mean", "paper_pcc_std"])
    columns = ["method", *(f"{metric}_{statistic}" for metric in METRICS
                           for statistic in ("mean", "std", "images")),
               "reference", *paper.columns[1:]]
    return summary.merge(paper, on="method", how="left")[columns].round(4)
