"""Statistics of the PV user study: accuracy per arm and one-tailed Mann-Whitney U tests.

The analysis reads one row per participant in the format of the vendored data
(``papers/pv/data/participant_scores.csv``): the participant, the arm
(``gradcam`` or ``pv``), and how many questions they answered with the model's
prediction, out of how many, separately for questions where the model was
wrong and where it was right. The paper tests, per question type, whether the
two arms' per-participant scores differ (Sec. 4): for model-wrong questions
H1: Acc(Grad-CAM) < Acc(PV), for model-right questions H1: Acc(Grad-CAM) > Acc(PV).

U and its normal approximation with the tie correction are computed here from
midranks (and checked against SciPy in the tests); the exact p-value is the
permutation distribution of the rank sum conditional on the observed ties,
counted by dynamic programming, so that it stays exact when scores tie, which
they do heavily (scores are integers from 0 to 16).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from papers.pv.plan import scores_files

ARMS = ("gradcam", "pv")
CASES = ("model_wrong", "model_right")
COLUMNS = ("participant", "arm", "correct_when_model_wrong", "n_questions_model_wrong",
           "correct_when_model_right", "n_questions_model_right")
#: One-tailed alternative of the paper per case, for the order (Grad-CAM, PV).
ALTERNATIVES = {"model_wrong": "less", "model_right": "greater"}

#: The paper's Table 1 (accuracy, standard error) and Mann-Whitney results (Sec. 4).
PAPER_ACCURACY = {("gradcam", "model_wrong"): (0.083, 0.013),
                  ("gradcam", "model_right"): (0.959, 0.007),
                  ("pv", "model_wrong"): (0.350, 0.030), ("pv", "model_right"): (0.755, 0.025)}
PAPER_TESTS = {"model_wrong": {"p": 2.3e-11, "z": -6.58},
               "model_right": {"p": 2.45e-11, "z": 6.57}}


class StudyDataError(ValueError):
    """The scores file does not have the format the analysis reads."""


def read_scores(source: str | Path | Iterable[str | Path]) -> pd.DataFrame:
    """Participant scores from ``source`` (see :func:`scores_files`), checked: columns, arms,
    counts within their totals, and each participant once."""
    files = scores_files(source)
    if not files:
        raise StudyDataError(f"{source}: no scores files (*.csv)")
    scores = pd.concat([_checked_scores(file) for file in files], ignore_index=True)
    repeated = sorted(set(scores["participant"][scores["participant"].duplicated()]))
    if repeated:
        raise StudyDataError(f"{source}: participants {repeated} appear more than once")
    return scores


def _checked_scores(path: Path) -> pd.DataFrame:
    """One scores file, with its columns, arms and counts checked."""
    scores = pd.read_csv(path)
    missing = [column for column in COLUMNS if column not in scores.columns]
    if missing:
        raise StudyDataError(f"{path}: missing columns {missing}; expected {list(COLUMNS)}")
    unknown = sorted(set(scores["arm"]) - set(ARMS))
    if unknown:
        raise StudyDataError(f"{path}: unknown arm(s) {unknown}; expected one of {list(ARMS)}")
    for case in CASES:
        correct, total = scores[f"correct_when_{case}"], scores[f"n_questions_{case}"]
        bad = scores["participant"][(correct < 0) | (correct > total)].tolist()
        if bad:
            raise StudyDataError(f"{path}: correct_when_{case} outside [0, n_questions_{case}] "
                                 f"for participants {bad}")
    return scores[list(COLUMNS)]


def accuracy(scores: pd.DataFrame, arm: str, case: str) -> np.ndarray:
    """Per-participant accuracy (fraction of questions answered with the model's prediction),
    for the participants who were asked questions of this case."""
    rows = scores[(scores["arm"] == arm) & (scores[f"n_questions_{case}"] > 0)]
    return (rows[f"correct_when_{case}"] / rows[f"n_questions_{case}"]).to_numpy(float)


def accuracy_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Table 1: mean accuracy and its standard error (sample std / sqrt(n)) per arm and case,
    beside the paper's values and our difference from them."""
    rows = []
    for arm in ARMS:
        for case in CASES:
            values = accuracy(scores, arm, case)
            paper_mean, paper_se = PAPER_ACCURACY[(arm, case)]
            rows.append({"arm": arm, "case": case, "participants": len(values),
                         "accuracy": values.mean() if len(values) else np.nan,
                         "standard_error": (values.std(ddof=1) / np.sqrt(len(values))
                                            if len(values) > 1 else np.nan),
                         "paper_accuracy": paper_mean, "paper_standard_error": paper_se})
    table = pd.DataFrame(rows)
    table["accuracy_minus_paper"] = table["accuracy"] - table["paper_accuracy"]
    table["standard_error_minus_paper"] = (table["standard_error"]
                                           - table["paper_standard_error"])
    return table


@dataclass(frozen=True)
class MannWhitney:
    """One Mann-Whitney U test of sample ``a`` against ``b``; U is the statistic of ``a``."""

    u: float
    z: float  # normal approximation with the tie correction, no continuity correction
    p_normal: float
    p_exact: float  # permutation distribution of the rank sum given the ties


def midranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..N, tied values sharing the mean of their ranks."""
    return stats.rankdata(values, method="average")


def mann_whitney(a: np.ndarray, b: np.ndarray, alternative: str) -> MannWhitney:
    """U, tie-corrected Z and one- or two-tailed p-values; ``alternative`` as in SciPy.

    "less" means H1: values of ``a`` tend to be smaller than those of ``b``.
    """
    if alternative not in ("less", "greater", "two-sided"):
        raise ValueError(f"alternative must be less, greater or two-sided, not {alternative!r}")
    n_a, n_b = len(a), len(b)
    ranks = midranks(np.concatenate([a, b]))
    u = ranks[:n_a].sum() - n_a * (n_a + 1) / 2
    total = n_a + n_b
    _, tie_sizes = np.unique(ranks, return_counts=True)
    tie_term = (tie_sizes ** 3 - tie_sizes).sum() / (total * (total - 1))
    sigma = np.sqrt(n_a * n_b / 12 * (total + 1 - tie_term))
    # Every score tied: U carries no information and Z is undefined (the exact p is 1).
    z = (u - n_a * n_b / 2) / sigma if sigma > 0 else np.nan
    p_normal = {"less": stats.norm.cdf(z), "greater": stats.norm.sf(z),
                "two-sided": 2 * stats.norm.sf(abs(z))}[alternative]
    return MannWhitney(u=u, z=z, p_normal=float(p_normal),
                       p_exact=exact_p(ranks, n_a, alternative))


def rank_sum_distribution(ranks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every attainable sum of ``size`` of the ``ranks`` and its probability under H0.

    Midranks are multiples of 1/2, so doubled ranks are integers; the number of
    subsets of each size with each doubled sum is counted item by item (the
    subset-sum recursion), in floating point because the counts exceed 2**63.
    """
    doubled = np.rint(2 * ranks).astype(int)
    max_sum = doubled.sum()
    counts = np.zeros((size + 1, max_sum + 1))
    counts[0, 0] = 1.0
    for value in doubled:
        counts[1:, value:] += counts[:-1, :max_sum + 1 - value].copy()
    attainable = np.nonzero(counts[size])[0]
    return attainable / 2, counts[size, attainable] / counts[size].sum()


def exact_p(ranks: np.ndarray, size: int, alternative: str) -> float:
    """P-value of the first ``size`` ranks' sum under random assignment to the two samples."""
    observed = ranks[:size].sum()
    sums, probability = rank_sum_distribution(ranks, size)
    tolerance = 1e-9
    lower = probability[sums <= observed + tolerance].sum()
    upper = probability[sums >= observed - tolerance].sum()
    if alternative == "less":
        return float(min(lower, 1.0))
    if alternative == "greater":
        return float(min(upper, 1.0))
    return float(min(1.0, 2 * min(lower, upper)))


def test_table(scores: pd.DataFrame) -> pd.DataFrame:
    """The paper's two one-tailed tests (Grad-CAM against PV), ours beside the printed values
    and our Z's difference from the printed Z.

    A case that an arm was asked no questions of (a survey kit whose classifier got
    no image right, say) has no test and no row.
    """
    rows = []
    for case in CASES:
        alternative = ALTERNATIVES[case]
        gradcam, pv = accuracy(scores, "gradcam", case), accuracy(scores, "pv", case)
        if not (len(gradcam) and len(pv)):
            continue
        result = mann_whitney(gradcam, pv, alternative)
        sign = "<" if alternative == "less" else ">"
        rows.append({"case": case, "alternative": f"Acc(Grad-CAM) {sign} Acc(PV)",
                     "u": result.u, "z": result.z, "p_normal": result.p_normal,
                     "p_exact": result.p_exact, "paper_z": PAPER_TESTS[case]["z"],
                     "paper_p": PAPER_TESTS[case]["p"],
                     "z_minus_paper": result.z - PAPER_TESTS[case]["z"]})
    return pd.DataFrame(rows)
