"""The DXAI paper's claims, each with the value measured here and whether it holds.

The criteria of the claims the paper states in words:

* Table 1 (per dataset, for each classifier reading): DXAI's beta-AUC is
  strictly the lowest of the methods run with that classifier.
* Fig. 9 ("class distinction diminishes"): the mean class probabilities of
  each true class, at beta = 1, are closer to uniform (total variation) than at
  beta = 0 and than after removing the random decomposition: any part pulled
  towards grey blurs the classes somewhat, so the random part is the baseline.
* App. 0.E, naive baseline: its optimisation "converges to an approximately
  uniform output" when the mean KL to uniform falls below 1 % of the images'
  own; it is "not very informative" when its beta-AUC (Table 1's measure, on
  the same images) is above DXAI's, with the random decomposition beside.
* Figs. 17 and 20 ("the cars are well isolated", "isolate the lesions well"),
  on data with evidence masks: most (over half) of |x_distinct| lies inside
  the mask; the mask's area (what a uniform part scores) and the best heatmap
  method are beside.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from common.claims import claim_row
from papers.dxai.evaluation import DISCRIMINATOR, NAIVE, RANDOM, UNIFORM_PART, distance_to_uniform

DXAI = "DXAI"
#: The naive optimisation "converges" when its KL to uniform is below this share of the
#: images' own.
CONVERGED_SHARE = 0.01
#: The distinct part "isolates" the evidence when more than this share lies in the mask.
ISOLATED_SHARE = 0.5
ISOLATION_IN_PAPER = {"cars": "the cars are well isolated in high resolution (Fig. 17)",
                      "tumor": "our ability to isolate the lesions well (Fig. 20)"}
ISOLATION_FIGURE = {"cars": "Fig. 17", "tumor": "Fig. 20"}


def _claim(claim: str, evidence: str, measured: str, holds: bool, paper: str, *, source: str,
           output: str, figure: str | None = None, dataset: str | None = None) -> dict:
    """One row (common/claims.py); ``output`` and ``figure`` are dxai_claims's input keys,
    ``dataset`` the one dataset the claim was measured on (None: every DXAI dataset)."""
    return claim_row(source, claim, evidence, paper, measured, holds, output, figure,
                     datasets=None if dataset is None else (dataset,))


def _lowest(scores: pd.Series, candidate: str = DXAI) -> tuple[bool, str]:
    """Whether ``candidate``'s score is strictly below every other, and a short account. A
    score is undefined (NaN) where the classifier is wrong on every unaltered image (the
    normalised AUC divides by that accuracy): the claim does not hold and the account says
    why."""
    undefined = scores[scores.isna()].index.tolist()
    if undefined:
        return False, (f"undefined for {', '.join(undefined)}: the classifier is wrong on "
                       "every unaltered image")
    others = scores.drop(candidate)
    return bool(scores[candidate] < others.min()), (
        f"{candidate} {scores[candidate]:.3f} vs best other {others.idxmin()} "
        f"{others.min():.3f}")


def judged_by(classifier: str) -> str:
    """How a claim names the classifier of a Table 1 reading."""
    return ("DXAI's own discriminator" if classifier == DISCRIMINATOR
            else f"the explained {classifier}")


def table1_claims(table1: pd.DataFrame) -> list[dict]:
    """Sec. 4, Table 1: DXAI has the lowest beta-AUC on every dataset, for each classifier
    (the paper does not say which it used); methods not run with a classifier are named."""
    datasets = [column for column in table1.columns if column not in ("classifier", "method")]
    every_method = list(dict.fromkeys(table1["method"]))
    rows = []
    for classifier, block in table1.groupby("classifier", sort=False):
        table = block.set_index("method")
        missing = [method for method in every_method if method not in table.index]
        note = f"; {', '.join(missing)} not run with it" if missing else ""
        for dataset in datasets:
            holds, measured = _lowest(table[dataset])
            rows.append(_claim(
                f"DXAI has the lowest beta-AUC ({dataset}; explained for and measured with "
                f"{judged_by(classifier)})",
                "beta-AUC: strictly the lowest of the methods run with that classifier",
                measured + note, holds,
                "lowest on all five datasets (0.542-0.754); the classifier is not stated "
                "(App. 0.B: the main paper shows the discriminator's)",
                source="Table 1", output="table1", dataset=dataset))
    return rows


def figure9_claims(curves: Mapping[str, pd.DataFrame]) -> list[dict]:
    """Fig. 9: removing DXAI's distinct part (beta 0 -> 1) brings each class's mean
    probabilities closer to uniform, and closer than removing the random decomposition."""
    rows = []
    for dataset, frame in curves.items():
        for classifier, block in frame.groupby("classifier", sort=False):
            dxai = distance_to_uniform(block[block["method"] == DXAI]).sort_index()
            random = distance_to_uniform(block[block["method"] == RANDOM]).sort_index()
            start, end, baseline = dxai.iloc[0], dxai.iloc[-1], random.iloc[-1]
            rows.append(_claim(
                f"the class probabilities approach uniform as beta grows ({dataset}; "
                f"{judged_by(classifier)})",
                "Fig. 9: total-variation distance of each true class's mean probabilities "
                "from uniform (0 = uniform), at beta = 0 and 1; random decomposition beside",
                f"{start:.3f} at beta 0, {end:.3f} at beta 1; random decomposition "
                f"{baseline:.3f} at beta 1", end < start and end < baseline,
                "class distinction diminishes towards beta = 1 (Fig. 9)",
                source="Fig. 9", output=f"curves_{dataset}", figure="figure9", dataset=dataset))
    return rows


def naive_claims(naive: pd.DataFrame, dataset: str | None = None) -> list[dict]:
    """App. 0.E: the naive optimisation reaches a near-uniform output, yet its distinct part
    explains the classifier less than DXAI's (Table 1's measure on the same images)."""
    table = naive.set_index("method")
    before, after = table.loc[NAIVE, "kl_to_uniform_before"], table.loc[NAIVE,
                                                                         "kl_to_uniform_after"]
    auc = table["beta_auc"]
    return [
        _claim("the naive optimisation converges to an approximately uniform output",
               f"mean KL(uniform || f) of x_a against the images' own (App. 0.E); converged "
               f"below {CONVERGED_SHARE:.0%} of it",
               f"{after:.4f} from {before:.4f} ({after / before:.1%}); DXAI's agnostic part "
               f"{table.loc[DXAI, 'kl_to_uniform_after']:.4f}",
               after < CONVERGED_SHARE * before, "converges quickly to a near-uniform output",
               source="App. 0.E", output="naive", figure="naive_figure", dataset=dataset),
        _claim("DXAI's distinct part explains the classifier better than the naive one",
               "beta-AUC (Table 1's measure) on the naive baseline's images; random beside",
               f"DXAI {auc[DXAI]:.3f} vs naive {auc[NAIVE]:.3f}; random {auc[RANDOM]:.3f}",
               auc[DXAI] < auc[NAIVE],
               "the naive results are not very informative, closer to adversarial attacks",
               source="App. 0.E", output="naive", figure="naive_figure", dataset=dataset)]


def groundtruth_claims(groundtruth: pd.DataFrame) -> list[dict]:
    """Figs. 17 and 20 (and the grids): DXAI's distinct part isolates the class evidence,
    measured on data with evidence masks: most of |x_distinct| lies inside the mask."""
    rows = []
    for dataset, block in groundtruth.groupby("dataset", sort=False):
        share = block.set_index("method")["share_in_mask"]
        dxai, area = share[DXAI], share[UNIFORM_PART]
        others = share.drop([DXAI, UNIFORM_PART])
        if share.isna().all():
            measured = "undefined: no evaluated image has an evidence mask"
        else:
            measured = (f"DXAI {dxai:.3f} ({dxai / area:.1f}x the mask area {area:.3f}); "
                        f"best heatmap {others.idxmax()} {others.max():.3f}")
        rows.append(_claim(
            f"DXAI's distinct part lies mostly inside the evidence mask ({dataset})",
            f"share of |x_distinct| inside the mask; over {ISOLATED_SHARE:g} holds; a uniform "
            f"part scores the mask's area", measured, dxai > ISOLATED_SHARE,
            ISOLATION_IN_PAPER.get(dataset, "the distinct part isolates the class evidence"),
            source=ISOLATION_FIGURE.get(dataset, "grids"), output="groundtruth",
            figure=f"grids_{dataset}", dataset=dataset))
    return rows


def table2_claim(table2: pd.DataFrame, dataset: str | None = None) -> dict:
    """Table 2: ranking pixels by |x_distinct| removes the evidence fastest."""
    holds, measured = _lowest(table2.set_index("method")["auc"])
    return _claim("DXAI has the lowest pixel-removal AUC",
                  "accuracy AUC as the top-ranked pixels are removed: strictly the lowest",
                  measured, holds, "0.125 vs 0.156 (LRP) on BraTS", source="Table 2",
                  output="table2", dataset=dataset)


def table3_claims(table3: pd.DataFrame) -> list[dict]:
    """Table 3: measured with a classifier, the DXAI trained with that classifier drops the
    accuracy most (the diagonal is the lowest of its column)."""
    rows = []
    for dataset, block in table3.groupby("dataset", sort=False):
        block = block.set_index("trained_by")
        for measured_by in block.index:
            holds, measured = _lowest(block[f"auc_{measured_by}"], candidate=measured_by)
            rows.append(_claim(
                f"AUC measured with {measured_by} drops most for DXAI trained with it "
                f"({dataset})", "beta-AUC of each trained DXAI: the diagonal is the lowest "
                "of its column", measured, holds, "holds on all four datasets",
                source="Table 3", output="table3", dataset=dataset))
    return rows


def ablation_claims(ablation: pd.DataFrame, dataset: str | None = None) -> list[dict]:
    """Figs. 12 and 14: B branches and the Eq. 12 loss each give a better reconstruction, and
    with two branches the classification loss is higher throughout training."""
    final = ablation.groupby("variant", sort=False)["test_psnr"].first()
    branches = ablation.groupby("variant", sort=False)["branches"].first()
    loss = ablation.pivot(index="iteration", columns="variant",
                          values="train_classification_loss")
    higher = loss["two_branches"] > loss["full"]
    return [
        _claim("with two branches the classification loss is higher throughout training",
               "training classification loss at every evaluation point (Fig. 12)",
               f"higher at {int(higher.sum())} of {len(higher)} points; at the end "
               f"{loss['two_branches'].iloc[-1]:.3f} vs {loss['full'].iloc[-1]:.3f}",
               higher.all(), "higher for the entire training", source="Fig. 12",
               output="ablation", figure="ablation_figure", dataset=dataset),
        _claim(f"{branches['full']} branches reconstruct better than {branches['two_branches']}",
               "PSNR on the test images (Fig. 12)",
               f"{final['full']:.2f} dB vs {final['two_branches']:.2f} dB",
               final["full"] > final["two_branches"], "PSNR higher with 5 branches",
               source="Fig. 12", output="ablation", figure="ablation_figure", dataset=dataset),
        _claim("the Eq. 12 loss improves the reconstruction", "PSNR on the test images (Fig. 14)",
               f"{final['full']:.2f} dB with vs {final['no_eq12']:.2f} dB without",
               final["full"] > final["no_eq12"], "PSNR higher with Eq. 12", source="Fig. 14",
               output="ablation", figure="ablation_figure", dataset=dataset)]


def table4_claims(table4: pd.DataFrame, dataset: str | None = None) -> list[dict]:
    """Table 4: DXAI's spread over seeds falls with training and ends below the layer spread of
    Grad-CAM and Internal Influence."""
    dxai = table4[table4["method"] == DXAI].sort_values("iteration")
    first, last = dxai["normalised_std"].iloc[0], dxai["normalised_std"].iloc[-1]
    evidence = "normalised standard deviation of the maps over training seeds"
    rows = [_claim("the spread of DXAI over training seeds falls with training", evidence,
                   f"{first:.4f} at iteration {dxai['iteration'].iloc[0]:g}, {last:.4f} at "
                   f"{dxai['iteration'].iloc[-1]:g}", last < first, "falls with training",
                   source="Table 4", output="table4", dataset=dataset)]
    for _, other in table4[table4["method"] != DXAI].iterrows():
        rows.append(_claim(f"DXAI varies less over seeds than {other['method']} over layers",
                           f"{evidence}, and of the other method's over layers",
                           f"{last:.4f} vs {other['normalised_std']:.4f}",
                           last < other["normalised_std"], "smaller than both",
                           source="Table 4", output="table4", dataset=dataset))
    return rows


def all_claims(table1, table2, table3, table4, ablation, naive, groundtruth,
               curves: Mapping[str, pd.DataFrame],
               datasets: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Every claim; ``curves``: the beta curves of each dataset (Fig. 9); ``datasets``: the
    one dataset of Table 2, Table 4, the ablation and the naive baseline, by table name."""
    datasets = datasets or {}
    return pd.DataFrame([*table1_claims(table1), table2_claim(table2, datasets.get("table2")),
                         *table3_claims(table3),
                         *ablation_claims(ablation, datasets.get("ablation")),
                         *table4_claims(table4, datasets.get("table4")),
                         *figure9_claims(curves), *naive_claims(naive, datasets.get("naive")),
                         *groundtruth_claims(groundtruth)])
