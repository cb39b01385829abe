"""The survey's comparative claims, each with the value measured here and whether it holds.

Claims (survey.txt line numbers):
- 1577: FEM is the most similar to the gaze maps in SIM;
- 1579: Grad-CAM has the highest correlation (PCC) with the gaze maps;
- 1586-1588: Integrated Gradients and SmoothGrad improve SIM and PCC over plain
  gradients (its own Table 1 contradicts the PCC half: column ``paper_table``);
- 1425-1429 (Samek et al.): LRP is better by AOPC than gradients and DeconvNet;
- 1472-1476 (Adebayo et al.): Grad-CAM and gradients pass the randomisation tests;
- 1628-1629 (Fuad et al.): FEM is faster than the gradient methods, Grad-CAM included.

The Table 1 rows say what the maps were compared with: recorded gaze, or (loudly)
simulated observers, whose fixations follow the objects' masks rather than people; the
PCC rows name the methods whose PCC mean left constant maps out (PCC is undefined there).

A method passes the randomisation tests here when, after every layer is
re-initialised (cascading, deepest stage) and after training on permuted labels,
the mean of each similarity (SSIM, Spearman, HOG-PCC) to the trained model's
map is below ``sanity_pass_below``: the paper states no threshold.
"""

import pandas as pd

from papers.survey.table1 import RECORDED_GAZE

GRADIENT = "saliency"  # the survey's "Gradient Backprop": max over channels of |dS/dx|
SMOOTHGRAD = "smoothgrad_saliency"  # its SmoothGrad (Eq. 8): the mean of that map over noise
LRP = "lrp_epsilon"    # the survey's unnamed LRP rule, as in Table 1
GRADIENT_METHODS = (GRADIENT, "guided_backprop", SMOOTHGRAD, "integrated_gradients", "gradcam")
#: Every method a claim names: ``survey.methods`` must list them all.
CLAIMED_METHODS = (*GRADIENT_METHODS, "deconvnet", LRP, "fem")


def claim(source: str, text: str, measured: str, holds: bool, paper_table=None) -> dict:
    """One row of the claims table; ``paper_table`` says whether the survey's own Table 1
    supports the claim (None where the table has no bearing on it)."""
    return {"source": source, "claim": text, "measured": measured, "holds": bool(holds),
            "paper_table": None if paper_table is None else bool(paper_table)}


def compared_with(table1: pd.DataFrame) -> str:
    """What Table 1's maps were compared with, for every human-likeness row: said loudly where
    it is simulated observers (their fixations follow the objects' masks, not people)."""
    references = set(table1["reference"])
    if references == {RECORDED_GAZE}:
        return f"vs {RECORDED_GAZE}"
    return f"vs {' and '.join(sorted(references)).upper()}, not recorded gaze"


def pcc_left_out(compared: pd.DataFrame) -> str:
    """The methods of ``compared`` whose PCC is over fewer images than their SIM (PCC is
    undefined on a constant map), as a note for a PCC row; empty where none is."""
    fewer = compared[compared["pcc_images"] < compared["sim_images"]]
    return "".join(f"; {method}'s PCC over {int(row.pcc_images)} of {int(row.sim_images)} "
                   f"images (constant maps)" for method, row in fewer.iterrows())


def human_likeness_claims(table1: pd.DataFrame) -> list[dict]:
    """Table 1: best SIM, best PCC, and IG and SmoothGrad against plain gradients. Each row
    says what the maps were compared with and, for PCC, which images a method's mean left out."""
    ours = table1.set_index("method")
    paper = ours.dropna(subset=["paper_sim_mean"])
    compared = ours.loc[paper.index]
    reference = compared_with(table1)
    rows = []
    for metric, method, name in (("sim", "fem", "FEM"), ("pcc", "gradcam", "Grad-CAM")):
        best = compared[f"{metric}_mean"].idxmax()
        rows.append(claim("Table 1", f"{name} has the highest {metric.upper()} with the gaze maps",
                          f"{reference}: highest {best} "
                          f"({compared.loc[best, f'{metric}_mean']:.3f}); "
                          f"{method} {compared.loc[method, f'{metric}_mean']:.3f}"
                          f"{pcc_left_out(compared) if metric == 'pcc' else ''}",
                          best == method,
                          paper[f"paper_{metric}_mean"].idxmax() == method))
    improvers = compared.loc[[GRADIENT, "integrated_gradients", SMOOTHGRAD]]
    for metric in ("sim", "pcc"):
        values = compared[f"{metric}_mean"]
        printed = paper[f"paper_{metric}_mean"]
        rows.append(claim(
            "Table 1", f"Integrated Gradients and SmoothGrad improve {metric.upper()} over "
                       f"plain gradients",
            f"{reference}: gradient {values[GRADIENT]:.3f}, IG "
            f"{values['integrated_gradients']:.3f}, SmoothGrad {values[SMOOTHGRAD]:.3f}"
            f"{pcc_left_out(improvers) if metric == 'pcc' else ''}",
            min(values["integrated_gradients"], values[SMOOTHGRAD]) > values[GRADIENT],
            min(printed["integrated_gradients"], printed[SMOOTHGRAD]) > printed[GRADIENT]))
    return rows


def aopc_claim(summary: pd.DataFrame) -> dict:
    """AOPC (Samek et al.): LRP above gradients and DeconvNet."""
    aopc = summary[summary["metric"] == "aopc"].set_index("method")["mean"]
    return claim("Sec. 5 (Samek et al.)", "LRP has a higher AOPC than gradients and DeconvNet",
                 f"AOPC: LRP {aopc[LRP]:.3f}, gradient {aopc[GRADIENT]:.3f}, "
                 f"DeconvNet {aopc['deconvnet']:.3f}",
                 aopc[LRP] > max(aopc[GRADIENT], aopc["deconvnet"]))


def speed_claim(timing: pd.DataFrame) -> dict:
    """Runtime (Fuad et al.): FEM's median time per image below every gradient method's."""
    median = timing.set_index("method")["ms_per_image_median"]
    fastest_gradient = min(GRADIENT_METHODS, key=lambda method: median[method])
    return claim("Sec. 6 (Fuad et al.)",
                 "FEM is faster than the gradient methods, Grad-CAM included",
                 f"median ms per image over {int(timing['repeats'].min())} calls: FEM "
                 f"{median['fem']:.2f}, fastest gradient method {fastest_gradient} "
                 f"{median[fastest_gradient]:.2f}",
                 median["fem"] < median[fastest_gradient])


def randomisation_verdicts(sanity: pd.DataFrame, threshold: float) -> pd.Series:
    """Per method: True where every similarity falls below ``threshold`` in both tests."""
    cascading = sanity[sanity["test"] == "cascading"]
    deepest = cascading[cascading["depth"] == cascading["depth"].max()]
    final = pd.concat([deepest, sanity[sanity["test"] == "labels"]])
    return final.groupby("method")["mean"].max() < threshold


def sanity_claim(sanity: pd.DataFrame, threshold: float) -> dict:
    """Grad-CAM and gradients pass the model and data randomisation tests."""
    passes = randomisation_verdicts(sanity, threshold)
    passing = sorted(passes[passes].index)
    return claim("Sec. 5 (Adebayo et al.)", "Grad-CAM and gradients pass the randomisation tests",
                 f"pass (every similarity < {threshold}): {', '.join(passing) or 'none'}",
                 passes[GRADIENT] and passes["gradcam"])


def all_claims(table1: pd.DataFrame, perturbation: pd.DataFrame, sanity: pd.DataFrame,
               timing: pd.DataFrame, sanity_pass_below: float) -> pd.DataFrame:
    """The claims table from Table 1, the perturbation summary, the sanity and timing tables."""
    rows = human_likeness_claims(table1) + [aopc_claim(perturbation), speed_claim(timing),
                                            sanity_claim(sanity, sanity_pass_below)]
    return pd.DataFrame(rows)
