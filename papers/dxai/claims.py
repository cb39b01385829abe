"""The DXAI paper's claims, each with the value measured here and whether it holds."""

from __future__ import annotations

import pandas as pd

DXAI = "DXAI"


def _claim(claim: str, evidence: str, measured: str, holds: bool, paper: str) -> dict:
    return {"claim": claim, "evidence": evidence, "measured": measured, "holds": bool(holds),
            "paper": paper}


def _lowest(scores: pd.Series) -> tuple[bool, str]:
    """Whether DXAI's score is strictly below every other, and a short account."""
    others = scores.drop(DXAI)
    return bool(scores[DXAI] < others.min()), (f"DXAI {scores[DXAI]:.3f} vs best other "
                                               f"{others.idxmin()} {others.min():.3f}")


def table1_claims(table1: pd.DataFrame) -> list[dict]:
    """Sec. 4, Table 1: DXAI has the lowest beta-AUC on every dataset."""
    table = table1.set_index("method")
    rows = []
    for dataset in table.columns:
        holds, measured = _lowest(table[dataset])
        rows.append(_claim(f"DXAI has the lowest beta-AUC ({dataset})", "Table 1", measured,
                           holds, "lowest on all five datasets (0.542-0.754)"))
    return rows


def table2_claim(table2: pd.DataFrame) -> dict:
    """Table 2: ranking pixels by |x_distinct| removes the evidence fastest."""
    holds, measured = _lowest(table2.set_index("method")["auc"])
    return _claim("DXAI has the lowest pixel-removal AUC", "Table 2", measured, holds,
                  "0.125 vs 0.156 (LRP) on BraTS")


def table3_claims(table3: pd.DataFrame) -> list[dict]:
    """Table 3: measured with a classifier, the DXAI trained with that classifier drops the
    accuracy most (the diagonal is the lowest of its column)."""
    rows = []
    for dataset, block in table3.groupby("dataset", sort=False):
        block = block.set_index("trained_by")
        for measured_by in block.index:
            column = block[f"auc_{measured_by}"]
            others = column.drop(measured_by)
            rows.append(_claim(
                f"AUC measured with {measured_by} drops most for DXAI trained with it "
                f"({dataset})", "Table 3",
                f"trained with {measured_by}: {column[measured_by]:.3f}; with "
                f"{others.idxmin()}: {others.min():.3f}",
                column[measured_by] < others.min(), "holds on all four datasets"))
    return rows


def ablation_claims(ablation: pd.DataFrame) -> list[dict]:
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
               higher.all(), "higher for the entire training"),
        _claim(f"{branches['full']} branches reconstruct better than {branches['two_branches']}",
               "PSNR on the test images (Fig. 12)",
               f"{final['full']:.2f} dB vs {final['two_branches']:.2f} dB",
               final["full"] > final["two_branches"], "PSNR higher with 5 branches"),
        _claim("the Eq. 12 loss improves the reconstruction", "PSNR on the test images (Fig. 14)",
               f"{final['full']:.2f} dB with vs {final['no_eq12']:.2f} dB without",
               final["full"] > final["no_eq12"], "PSNR higher with Eq. 12")]


def table4_claims(table4: pd.DataFrame) -> list[dict]:
    """Table 4: DXAI's spread over seeds falls with training and ends below the layer spread of
    Grad-CAM and Internal Influence."""
    dxai = table4[table4["method"] == DXAI].sort_values("iteration")
    first, last = dxai["normalised_std"].iloc[0], dxai["normalised_std"].iloc[-1]
    rows = [_claim("the spread of DXAI over training seeds falls with training", "Table 4",
                   f"{first:.4f} at iteration {dxai['iteration'].iloc[0]:g}, {last:.4f} at "
                   f"{dxai['iteration'].iloc[-1]:g}", last < first, "falls with training")]
    for _, other in table4[table4["method"] != DXAI].iterrows():
        rows.append(_claim(f"DXAI varies less over seeds than {other['method']} over layers",
                           "Table 4", f"{last:.4f} vs {other['normalised_std']:.4f}",
                           last < other["normalised_std"], "smaller than both"))
    return rows


def all_claims(table1, table2, table3, table4, ablation) -> pd.DataFrame:
    return pd.DataFrame([*table1_claims(table1), table2_claim(table2), *table3_claims(table3),
                         *ablation_claims(ablation), *table4_claims(table4)])
