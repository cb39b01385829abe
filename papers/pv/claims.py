"""The PV paper's claims, each with the value measured here and whether it holds."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from common.claims import claim_row

#: Fig. 7's caption: the paper judges it by eye, with no number.
INVARIANCE_IN_PAPER = ("qualitative: reconstructions remain semantically similar between "
                       "decoders, even when the decoder is trained using a different dataset "
                       "(Fig. 7)")


def study_claims(table: pd.DataFrame, tests: pd.DataFrame, alpha: float) -> list[dict]:
    """Sec. 4: PV users name wrong predictions more often, Grad-CAM users right ones."""
    rows = []
    statements = {"model_wrong": ("PV helps users predict the model's wrong predictions",
                                  "pv", "gradcam"),
                  "model_right": ("Grad-CAM helps users predict right predictions more than PV",
                                  "gradcam", "pv")}
    for case, (claim, better, worse) in statements.items():
        test = tests.set_index("case").loc[case]
        means = table[table["case"] == case].set_index("arm")["accuracy"]
        measured = (f"{means[better]:.1%} vs {means[worse]:.1%}; U = {test['u']:g}, "
                    f"Z = {test['z']:.2f}, p = {test['p_normal']:.2g} "
                    f"(exact {test['p_exact']:.2g})")
        paper = f"Z = {test['paper_z']:.2f}, p = {test['paper_p']:.3g}"
        participants = table["data"].iloc[0]
        rows.append(claim_row(
            "Sec. 4 (user study)", claim, f"user study ({participants}), {test['alternative']}",
            paper, measured, test["p_exact"] < alpha and means[better] > means[worse],
            output="tests", figure="figure6", datasets=(), kind=participants))
    return rows


def invariance_claim(invariance: pd.DataFrame, alpha: float,
                     datasets: Iterable[str] | None = None) -> dict:
    """Sec. 4, Fig. 7: two decoders trained on different data reconstruct an image alike. Holds
    when their image-specific content agrees (centred PCC) significantly more for the same
    image than for different images; SSIM is reported beside it. The evidence names the
    images each decoder was trained on (the paper's B: ImageNet; here possibly generated);
    ``datasets``: those of decoders A and B."""
    table = invariance.set_index("pair")
    matched, control = table.loc["A vs B"], table.loc["A vs B, other image"]
    return claim_row("Fig. 7", "decoders trained on different datasets give similar "
                               "reconstructions",
                  f"decoder B trained on {matched['decoder_b_data']}, decoder A on "
                  f"{matched['decoder_a_data']}: centred PCC of their reconstructions of the "
                  f"same image vs of different images (one-sided Wilcoxon)", INVARIANCE_IN_PAPER,
                  f"PCC {matched['pcc_centred']:.3f} vs {control['pcc_centred']:.3f} "
                  f"(p = {matched['p_matched']:.2g}); SSIM(A, B) = {matched['ssim']:.3f}, "
                  f"SSIM(A, x) = {table.loc['A vs input', 'ssim']:.3f}",
                  matched["p_matched"] < alpha, output="invariance", figure="invariance_figure",
                  datasets=datasets)


def all_claims(table: pd.DataFrame, tests: pd.DataFrame, invariance: pd.DataFrame,
               alpha: float, decoder_datasets: Iterable[str] | None = None) -> pd.DataFrame:
    """The study's two claims and Fig. 7's; ``decoder_datasets``: Fig. 7's decoders' data."""
    return pd.DataFrame([*study_claims(table, tests, alpha),
                         invariance_claim(invariance, alpha, decoder_datasets)])
