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

from common.claims import claim_row
from papers.survey.table1 import RECORDED_GAZE

GRADIENT = "saliency"  # the survey's "Gradient Backprop": max over channels of |dS/dx|
SMOOTHGRAD = "smoothgrad_saliency"  # its SmoothGrad (Eq. 8): the mean of that map over noise
LRP = "lrp_epsilon"    # the survey's unnamed LRP rule, as in Table 1
GRADIENT_METHODS = (GRADIENT, "guided_backprop", SMOOTHGRAD, "integrated_gradients", "gradcam")
#: Every method a claim names: ``survey.methods`` must list them all.
CLAIMED_METHODS = (*GRADIENT_METHODS, "deconvnet", LRP, "fem")


#: What the survey states where it quotes another work's finding, with no value of its own.
STATED = {"aopc": "LRP is the best by AOPC against Gradient Backpropagation and Deconvolution "
                  "(Samek et al., quoted; no value)",
          "speed": "gradient-based methods including Grad-CAM have longer computation times "
                   "and FEM was faster (Fuad et al., quoted; no value)",
          "sanity": "Grad-CAM and Gradient Backpropagation pass this test (Adebayo et al., "
                    "quoted; no value)"}
#: The survey's words on Table 1 (survey.txt lines 1577-1588).
TABLE1_WORDS = {"sim": "FEM is the most similar to the GFDM in SIM",
                "pcc": "Grad-CAM has the highest correlation with the GFDM",
                "improve": "the Similarity and PCC metrics are improved for these methods "
                           "when compared to Gradient Backpropagation"}


def claim(source: str, text: str, evidence: str, paper_value: str, measured: str, holds: bool,
          output: str, figure: str | None = None, dataset: str | None = None,
          kind: str | None = None) -> dict:
    """One row of the claims table (common/claims.py): ``dataset`` the one it was measured on
    (None: the survey's classifier's), ``kind`` what Table 1's maps were compared with."""
    return claim_row(source, text, evidence, paper_value, measured, holds, output, figure,
                     datasets=None if dataset is None else (dataset,), kind=kind)


def printed(paper: pd.DataFrame, metric: str, methods) -> str:
    """Table 1's printed means of ``metric`` for ``methods``, under the paper's names (ours
    where the table has none)."""
    names = paper["paper_name"] if "paper_name" in paper.columns else paper.index.to_series()
    return ", ".join(f"{names[method]} {paper.loc[method, f'paper_{metric}_mean']:.3f}"
                     for method in methods)


def table_agrees(agrees: bool) -> str:
    """Whether the survey's own Table 1 bears out its words."""
    return "its Table 1 agrees" if agrees else "its own Table 1 contradicts this"


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


def human_likeness_claims(table1: pd.DataFrame, dataset: str | None = None) -> list[dict]:
    """Table 1: best SIM, best PCC, and IG and SmoothGrad against plain gradients. Each row
    says what the maps were compared with and, for PCC, which images a method's mean left out;
    its paper value is Table 1's printed means beside the survey's words, and whether they
    agree. ``dataset``: the images of Table 1."""
    ours = table1.set_index("method")
    paper = ours.dropna(subset=["paper_sim_mean"])
    compared = ours.loc[paper.index]
    reference = compared_with(table1)
    where = {"output": "table1", "figure": "figure11", "dataset": dataset,
             "kind": " and ".join(sorted(set(table1["reference"])))}
    rows = []
    for metric, method, name in (("sim", "fem", "FEM"), ("pcc", "gradcam", "Grad-CAM")):
        best = compared[f"{metric}_mean"].idxmax()
        best_printed = paper[f"paper_{metric}_mean"].idxmax()
        rows.append(claim(
            "Table 1", f"{name} has the highest {metric.upper()} with the gaze maps",
            f"mean {metric.upper()} with the fixation maps: highest of Table 1's methods",
            f"{TABLE1_WORDS[metric]}; Table 1: highest {printed(paper, metric, [best_printed])}"
            f" ({table_agrees(best_printed == method)})",
            f"{reference}: highest {best} ({compared.loc[best, f'{metric}_mean']:.3f}); "
            f"{method} {compared.loc[method, f'{metric}_mean']:.3f}"
            f"{pcc_left_out(compared) if metric == 'pcc' else ''}",
            best == method, **where))
    improvers = compared.loc[[GRADIENT, "integrated_gradients", SMOOTHGRAD]]
    for metric in ("sim", "pcc"):
        values, table = compared[f"{metric}_mean"], paper[f"paper_{metric}_mean"]
        in_print = min(table["integrated_gradients"], table[SMOOTHGRAD]) > table[GRADIENT]
        rows.append(claim(
            "Table 1", f"Integrated Gradients and SmoothGrad improve {metric.upper()} over "
                       f"plain gradients",
            f"mean {metric.upper()} with the fixation maps: both above plain gradients",
            f"{TABLE1_WORDS['improve']}; Table 1: "
            f"{printed(paper, metric, improvers.index)} ("
            f"{table_agrees(in_print)})",
            f"{reference}: gradient {values[GRADIENT]:.3f}, IG "
            f"{values['integrated_gradients']:.3f}, SmoothGrad {values[SMOOTHGRAD]:.3f}"
            f"{pcc_left_out(improvers) if metric == 'pcc' else ''}",
            min(values["integrated_gradients"], values[SMOOTHGRAD]) > values[GRADIENT],
            **where))
    return rows


def aopc_claim(summary: pd.DataFrame) -> dict:
    """AOPC (Samek et al.): LRP above gradients and DeconvNet."""
    aopc = summary[summary["metric"] == "aopc"].set_index("method")["mean"]
    return claim("Sec. 5 (Samek et al.)", "LRP has a higher AOPC than gradients and DeconvNet",
                 "AOPC of region perturbation, most relevant first: LRP's the highest",
                 STATED["aopc"], f"AOPC: LRP {aopc[LRP]:.3f}, gradient {aopc[GRADIENT]:.3f}, "
                 f"DeconvNet {aopc['deconvnet']:.3f}",
                 aopc[LRP] > max(aopc[GRADIENT], aopc["deconvnet"]), "perturbation",
                 "perturbation_figure")


def speed_claim(timing: pd.DataFrame) -> dict:
    """Runtime (Fuad et al.): FEM's median time per image below every gradient method's."""
    median = timing.set_index("method")["ms_per_image_median"]
    fastest_gradient = min(GRADIENT_METHODS, key=lambda method: median[method])
    return claim("Sec. 6 (Fuad et al.)",
                 "FEM is faster than the gradient methods, Grad-CAM included",
                 "median time per image: FEM's below every gradient method's", STATED["speed"],
                 f"median ms per image over {int(timing['repeats'].min())} calls: FEM "
                 f"{median['fem']:.2f}, fastest gradient method {fastest_gradient} "
                 f"{median[fastest_gradient]:.2f}",
                 median["fem"] < median[fastest_gradient], "timing")


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
                 f"every similarity to the trained model's map below {threshold} after cascading "
                 f"and label randomisation", STATED["sanity"],
                 f"pass (every similarity < {threshold}): {', '.join(passing) or 'none'}",
                 passes[GRADIENT] and passes["gradcam"], "sanity", "sanity_figure")


def all_claims(table1: pd.DataFrame, perturbation: pd.DataFrame, sanity: pd.DataFrame,
               timing: pd.DataFrame, sanity_pass_below: float,
               table1_dataset: str | None = None) -> pd.DataFrame:
    """The claims table from Table 1 (on ``table1_dataset``), the perturbation summary, the
    sanity and timing tables."""
    rows = [*human_likeness_claims(table1, table1_dataset), aopc_claim(perturbation),
            speed_claim(timing), sanity_claim(sanity, sanity_pass_below)]
    return pd.DataFrame(rows)
