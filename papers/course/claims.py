"""The course's statements our outputs can check, each with the value measured here and
whether it holds.

The course (course.txt) is lecture material: it states properties and effects, with no
number to reproduce, so each ``paper_value`` quotes the slide ("qualitative"). The
statements and the criterion each is held to:

- LRP, "Why Conservation Alone Is Not Enough": on the digits' logistic regression the
  proportional decomposition conserves f(x) (error below ``CONSERVED``) yet gives
  positive relevance to every feature that opposes the prediction and none negative.
- LRP, "A More Meaningful Decomposition": R_d = b/V + w_d x_d has negative relevance
  and follows the effect of removing each pixel more closely (Pearson) than the
  proportional decomposition.
- LRP-0 "conserves total relevance": with the biases left out of the rule, the median
  of sum R / f(x) is within ``CONSERVATION_TOLERANCE`` of 1 at every stage's output and
  at the input (the course's f(x) = sum_d R_d).
- LRP-0 is "equivalent to Gradient x Input": the largest gap, relative to the largest
  |gradient x input|, is below ``EQUAL``.
- LRP-epsilon "produces sparser explanations": the share of |relevance| held by the
  top 10 % of pixels rises strictly from LRP-0 through each larger epsilon.
- LRP-gamma: "negative contributions suppressed": the share of negative relevance falls
  strictly from LRP-0 through each larger gamma.
- Grad-CAM++: "improved localization" over Grad-CAM: higher on most (three or more)
  of the four localisation scores; the random maps' scores beside.
- TextSpan: the class score decomposes into the heads' terms plus the residual terms:
  the largest |logit - sum of terms| is below ``EQUAL`` times the mean |logit|.
- Pseudo-register removal leaves "spatially meaningful" activations, CHILI's object
  part localises the concept better than its context part, and CHILI's object map
  better than the raw TextSpan map: each on most of the four localisation scores.
- Saturation, "low gradient != low importance": on the detector built to saturate,
  removing the object patch flips the prediction while the gradient gives the patch
  less of its mass than a uniform map would (the patch's share of the pixels).
- Spurious sensitivity, "high gradient != causal relevance": the spurious pixel holds
  more of the gradient than the object patch, yet removing it neither flips the
  prediction nor moves the score by ``BARELY`` of its value.
- "Randomized networks can produce similar saliency maps" (Adebayo et al.): with the
  network's output layer re-initialised (the first step of the cascade), some method's
  map keeps a mean Spearman rank correlation of at least ``SIMILAR`` with its trained
  map; the fully randomised network's correlations beside. A method whose map is
  constant (its correlation undefined) neither makes nor blocks the verdict unless no
  other method reaches ``SIMILAR``: then the claim is not measured.

A value a criterion needs that is missing from its table (a row or column absent, or
NaN, as a constant map's scores) leaves that claim "not measured", never judged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import pandas as pd

from common.claims import claim_row

CONSERVED = 1e-3               # |sum R - f(x)| of the linear model, in logits
CONSERVATION_TOLERANCE = 0.01  # |median sum R / f(x) - 1| at every layer
EQUAL = 1e-4                   # a relative gap that is float rounding, not a difference
BARELY = 0.05                  # a score change below 5 % of the score
SIMILAR = 0.5                  # Spearman rank correlation of a random network's map
SCORES = {"pointing_game": "pointing game", "energy_pointing_game": "energy",
          "iou": "IoU", "auc": "AUC"}
RANDOM = "random (baseline)"
MEASURES = {"top10_share": "share of |relevance| in the top 10 % of pixels",
            "negative_share": "share of negative relevance"}

#: The slides' words for each statement (course.txt); none gives a number.
SAYS = {
    "proportional": "R_d = f(x) |w_d phi_d| / sum |w_d phi_d|: all R_d have the same sign; even "
                    "pixels that oppose the prediction receive positive relevance; conservation "
                    "alone is insufficient (qualitative)",
    "contribution": "R_d = b/V + w_d phi_d(x_d): sign of relevance reflects sign of "
                    "contribution; positive and negative evidence coexist (qualitative)",
    "conservation": "LRP-0 conserves total relevance: f(x) = sum_d R_d^(L) = ... = "
                    "sum_d R_d^(1) (qualitative)",
    "gradient_x_input": "LRP-0: equivalent to Gradient x Input (qualitative)",
    "epsilon": "LRP-epsilon: suppresses weak evidence, produces sparser explanations "
               "(qualitative)",
    "gamma": "LRP-gamma: negative contributions suppressed, positive evidence emphasized "
             "(qualitative)",
    "gradcam++": "Grad-CAM++: improved localization, handles multiple instances effectively "
                 "(qualitative)",
    "textspan": "S(I, T) = sum_l sum_h sum_i A_{i,l,h}(T) + epsilon, epsilon the class-token "
                "initialisation and MLP terms (an identity)",
    "registers": "removing pseudo-register artifacts (median filter): remaining activations are "
                 "spatially meaningful (qualitative)",
    "object_context": "A = A^Object + A^Context: separate object-related activations from "
                      "context-related ones, against concept hallucination (qualitative)",
    "chili": "Sal_CHILI = sum_{l,h} w_{l,h} f_m(A_{i,l,h}): the object part of the score, "
             "for concept localisation (qualitative)",
    "saturation": "saturated neuron: gradient ~ 0, feature appears unimportant, yet removing "
                  "it would completely change the prediction; low gradient != low importance "
                  "(qualitative)",
    "spurious": "spurious sensitivity: gradient is high, yet removing the pixel the prediction "
                "barely changes; high gradient != causal relevance (qualitative)",
    "sanity": "randomized networks can produce similar saliency maps (Adebayo et al., 2018; "
              "quoted, no value)",
}
#: What stood in for the limits part's data: no dataset, one image and a detector we built.
CONSTRUCTED = "a detector built to saturate (papers/course/limits.py) on one constructed image"


class Missing(LookupError):
    """A value a claim's criterion needs is not in its table (or is NaN)."""


def value(table: pd.DataFrame, key: str, row: str, column: str) -> float:
    """``table``'s ``column`` in the row whose ``key`` is ``row``, as a float; Missing if
    the row or the column is absent, the row is not unique, or the value is NaN."""
    if key not in table.columns or column not in table.columns:
        raise Missing(f"column {column if key in table.columns else key}")
    cells = table.loc[table[key].astype(str) == row, column]
    if len(cells) != 1:
        raise Missing(f"{column} of {row!r}")
    number = pd.to_numeric(cells.iloc[0], errors="coerce")
    if pd.isna(number):
        raise Missing(f"{column} of {row!r}")
    return float(number)


def _flag(table: pd.DataFrame, key: str, row: str, column: str) -> bool:
    if column not in table.columns or (table[key].astype(str) == row).sum() != 1:
        raise Missing(f"{column} of {row!r}")
    cell = str(table.loc[table[key].astype(str) == row, column].iloc[0]).strip().lower()
    if cell not in ("true", "false"):
        raise Missing(f"{column} of {row!r}")
    return cell == "true"


def judged(source: str, claim: str, evidence: str, says: str,
           judge: Callable[[], tuple[str, bool]], output: str, figure: str | None = None,
           datasets=None, kind: str | None = None) -> dict:
    """One claim row: ``judge`` gives (measured, holds), or raises Missing: not measured."""
    try:
        measured, holds = judge()
    except Missing as missing:
        measured, holds = f"not measured: {missing} missing", None
    return claim_row(source, claim, evidence, says, measured, holds, output, figure,
                     datasets=datasets, kind=kind)


# --------------------------------------------------------------------------- LRP


def linear_claims(linear: pd.DataFrame) -> list[dict]:
    """The linear counterexample (lrp_linear.csv, on the digits)."""
    def get(row, column):
        return value(linear, "decomposition", row, column)

    def proportional():
        error = get("proportional", "conservation_error")
        opposing = get("proportional", "opposing_features_positive")
        negative = get("proportional", "negative_share")
        measured = (f"proportional: conservation error {error:.2g}, {opposing:.1%} of opposing "
                    f"features positive, {negative:.1%} of relevance negative; contribution-"
                    f"based: {get('contribution', 'opposing_features_positive'):.1%} and "
                    f"{get('contribution', 'negative_share'):.1%}")
        return measured, error < CONSERVED and opposing >= 1 - 1e-9 and negative == 0

    def contribution():
        negative = get("contribution", "negative_share")
        ours = get("contribution", "pearson_with_removal_effect")
        baseline = get("proportional", "pearson_with_removal_effect")
        measured = (f"negative relevance {negative:.1%} vs "
                    f"{get('proportional', 'negative_share'):.1%} (proportional); "
                    f"Pearson with the effect of removing each pixel "
                    f"{ours:.3f} vs {baseline:.3f}")
        return measured, negative > 0 and ours > baseline

    return [
        judged("LRP: Why Conservation Alone Is Not Enough; Counterexample: Linear Model",
               "a decomposition can conserve f(x) and still be wrong: the proportional one "
               "gives features opposing the prediction positive relevance",
               f"logistic regression on the digits' pixels, each test digit's predicted-class "
               f"logit decomposed proportionally: conserves f(x) (error < {CONSERVED:g}), every "
               f"opposing feature (w_d x_d < 0) positive, no negative relevance",
               SAYS["proportional"], proportional, "linear", datasets=("digits",)),
        judged("LRP: A More Meaningful Decomposition",
               "the contribution-based decomposition gives signed relevance that follows the "
               "features' contributions",
               "same model and digits: R_d = b/V + w_d x_d has negative relevance and a higher "
               "Pearson correlation than the proportional decomposition with the effect of "
               "removing each pixel (set to 0)",
               SAYS["contribution"], contribution, "linear", datasets=("digits",)),
    ]


def _rule_series(rules: pd.DataFrame, family: str) -> list[tuple[float, str]]:
    """(parameter, rule name) of the ``family`` rules (``eps``, ``gamma``), by parameter."""
    found = []
    for name in rules.get("rule", pd.Series(dtype=str)).astype(str):
        match = re.fullmatch(rf"LRP-{family} ([0-9.eE+-]+)", name)
        if match:
            found.append((float(match.group(1)), name))
    return sorted(found)


def _monotone(rules: pd.DataFrame, family: str, column: str, rising: bool) -> tuple[str, bool]:
    series = _rule_series(rules, family)
    if not series:
        raise Missing(f"LRP-{family} rows")
    names = ["LRP-0", *(name for _, name in series)]
    values = [value(rules, "rule", name, column) for name in names]
    steps = list(zip(values, values[1:], strict=False))
    holds = all(b > a for a, b in steps) if rising else all(b < a for a, b in steps)
    measured = ", ".join(f"{name} {number:.3f}" for name, number in zip(names, values,
                                                                        strict=True))
    return f"{MEASURES[column]}: {measured}", holds


def lrp_claims(rules: pd.DataFrame, conservation: pd.DataFrame) -> list[dict]:
    """Conservation, LRP-0 = gradient x input, and the rules' effects on the course CNN."""
    def conserves():
        if not {"rule", "bias_in_rule", "layer"} <= set(conservation.columns):
            raise Missing("column rule, bias_in_rule or layer")
        zero = conservation[conservation["rule"].astype(str) == "LRP-0"]
        parts, holds = [], True
        for bias in ("False", "True"):
            block = zero[zero["bias_in_rule"].astype(str).str.capitalize() == bias]
            if block.empty:
                raise Missing(f"LRP-0 rows with bias_in_rule {bias}")
            ratios = {layer: value(block, "layer", layer, "median_sum_over_logit")
                      for layer in dict.fromkeys(block["layer"].astype(str))}
            if bias == "False":
                holds = all(abs(ratio - 1) <= CONSERVATION_TOLERANCE
                            for ratio in ratios.values())
            listed = ", ".join(f"{layer} {ratio:.3f}" for layer, ratio in ratios.items())
            parts.append(f"{listed} (biases {'out of' if bias == 'False' else 'in'} the rule)")
        return "median sum R / f(x): " + "; ".join(parts), holds

    def equals():
        if "lrp0_vs_gradient_x_input" not in rules.columns or rules.empty:
            raise Missing("column lrp0_vs_gradient_x_input")
        gaps = pd.to_numeric(rules["lrp0_vs_gradient_x_input"], errors="coerce")
        if gaps.isna().any():
            raise Missing("lrp0_vs_gradient_x_input")
        gap, images = float(gaps.max()), value(rules, "rule", "LRP-0", "images")
        return (f"max |LRP-0 - gradient x input| / max |gradient x input| = {gap:.2g} on "
                f"{images:.0f} photos"), gap < EQUAL

    return [
        judged("LRP: Relevance as a Conservation Law; Properties of LRP-0",
               "LRP-0 conserves the relevance from the logit down to the pixels",
               f"the course CNN's test photos, LRP-0 with biases left out of the rule: median "
               f"over images of the relevance summed at each stage's output and at the input, "
               f"over the logit, within {CONSERVATION_TOLERANCE:g} of 1 everywhere",
               SAYS["conservation"], conserves, "conservation"),
        judged("LRP: Properties of LRP-0", "LRP-0 equals gradient x input",
               f"the course CNN (ReLU, biases) on its test photos: largest gap relative to the "
               f"largest |gradient x input| below {EQUAL:g}",
               SAYS["gradient_x_input"], equals, "rules", "lrp_figure"),
        judged("LRP: LRP-epsilon", "a larger epsilon gives sparser LRP maps",
               "same photos: share of |relevance| held by the top 10 % of pixels rises strictly "
               "from LRP-0 through each larger epsilon",
               SAYS["epsilon"], lambda: _monotone(rules, "eps", "top10_share", True), "rules",
               "lrp_figure"),
        judged("LRP: Effect of LRP-gamma", "a larger gamma suppresses negative relevance",
               "same photos: share of negative relevance falls strictly from LRP-0 through "
               "each larger gamma",
               SAYS["gamma"], lambda: _monotone(rules, "gamma", "negative_share", False),
               "rules", "lrp_figure"),
    ]


# --------------------------------------------------------------------------- localisation


def better_localised(table: pd.DataFrame, key: str, ours: str, baseline: str) -> tuple[str, bool]:
    """``ours`` against ``baseline`` on the four localisation scores (random maps beside):
    holds when ``ours`` is strictly higher on three or more of them."""
    pairs = {label: (value(table, key, ours, column), value(table, key, baseline, column))
             for column, label in SCORES.items()}
    wins = sum(mine > theirs for mine, theirs in pairs.values())
    listed = ", ".join(f"{label} {mine:.3f} vs {theirs:.3f}"
                       for label, (mine, theirs) in pairs.items())
    chance = ""
    if (table[key].astype(str) == RANDOM).any():
        chance = " (random: " + ", ".join(f"{value(table, key, RANDOM, column):.3f}"
                                          for column in SCORES) + ")"
    return f"{ours} vs {baseline}: {listed}{chance}; higher on {wins} of 4", wins >= 3


def _localisation_evidence(ours: str, baseline: str) -> str:
    return (f"{ours} vs {baseline} maps of the scenes test images, each explained for its "
            f"present class with the highest logit, scored against that class's mask "
            f"(pointing game, energy pointing game, IoU, AUC): higher on at least 3 of 4")


def cam_claims(cam: pd.DataFrame) -> list[dict]:
    return [judged("CAM family: Motivation for Grad-CAM++; Grad-CAM++ Weight Formula",
                   "Grad-CAM++ localises objects better than Grad-CAM",
                   "the scenes ResNet18 at its pooled features: "
                   + _localisation_evidence("Grad-CAM++", "Grad-CAM"), SAYS["gradcam++"],
                   lambda: better_localised(cam, "method", "Grad-CAM++", "Grad-CAM"), "cam",
                   "cam_figure")]


def vit_claims(decomposition: pd.DataFrame, localisation: pd.DataFrame) -> list[dict]:
    def identity():
        error = value(decomposition, "term", "logit", "max_identity_error")
        logit = value(decomposition, "term", "logit", "mean_abs")
        heads = value(decomposition, "term", "attention heads (sum over l, h, i)", "mean_abs")
        return (f"largest |logit - sum of terms| {error:.2g} (mean |logit| {logit:.3f}; "
                f"heads' terms {heads:.3f})"), error < EQUAL * max(logit, 1.0)

    def compare(ours, baseline):
        return lambda: better_localised(localisation, "map", ours, baseline)

    maps = "the scenes ViT's token maps: "
    return [
        judged("ViT: TEXTSPAN Score Decomposition",
               "the class score is the sum of the layer x head x token terms and the "
               "residual terms",
               f"the scenes ViT's explained logit on its test images: largest |logit - sum of "
               f"terms| below {EQUAL:g} x mean |logit|",
               SAYS["textspan"], identity, "vit_decomposition", "vit_heads_figure"),
        judged("ViT: Removing Pseudo-Register Artifacts",
               "removing pseudo-registers makes the TextSpan map localise better",
               maps + _localisation_evidence("TextSpan, registers removed", "TextSpan"),
               SAYS["registers"], compare("TextSpan, registers removed", "TextSpan"),
               "vit_localisation", "vit_maps_figure"),
        judged("ViT: Object vs Context Confusion; Final Decomposition",
               "CHILI's object part localises the concept better than its context part",
               maps + _localisation_evidence("CHILI object", "CHILI context"),
               SAYS["object_context"], compare("CHILI object", "CHILI context"),
               "vit_localisation", "vit_maps_figure"),
        judged("ViT: Final Decomposition (CHILI)",
               "CHILI's head-weighted object map localises the concept better than the raw "
               "TextSpan map",
               maps + _localisation_evidence("CHILI object", "TextSpan"), SAYS["chili"],
               compare("CHILI object", "TextSpan"), "vit_localisation", "vit_maps_figure"),
    ]


# --------------------------------------------------------------------------- limits


def limits_claims(limits: pd.DataFrame, sanity: pd.DataFrame) -> list[dict]:
    """The built detector's two failure modes (limits.csv) and the sanity check (sanity.csv)."""
    def get(row, column):
        return value(limits, "region", row, column)

    def saturation():
        share = get("object patch", "gradient_share")
        if "pixels" not in limits.columns:
            raise Missing("column pixels")
        uniform = get("object patch", "pixels") / pd.to_numeric(limits["pixels"]).sum()
        flips = _flag(limits, "region", "object patch", "prediction_flips")
        measured = (f"object patch: gradient share {share:.2g} (its share of the pixels "
                    f"{uniform:.3f}; occlusion {get('object patch', 'occlusion_share'):.3f}); "
                    f"removing it: score {get('object patch', 'score'):.2f} -> "
                    f"{get('object patch', 'score_without_region'):.2f} "
                    f"({'prediction flips' if flips else 'no flip'})")
        return measured, flips and share < uniform

    def spurious():
        share, object_share = (get("spurious pixel", "gradient_share"),
                               get("object patch", "gradient_share"))
        score, without = get("spurious pixel", "score"), get("spurious pixel",
                                                             "score_without_region")
        flips = _flag(limits, "region", "spurious pixel", "prediction_flips")
        measured = (f"spurious pixel: gradient share {share:.5f} (object patch "
                    f"{object_share:.2g}; occlusion {get('spurious pixel', 'occlusion_share'):.2g}"
                    f"); removing it: score {score:.2f} -> {without:.2f} "
                    f"({'prediction flips' if flips else 'no flip'})")
        return measured, (share > object_share and not flips
                          and abs(without - score) < BARELY * abs(score))

    def randomised():
        needed = {"method", "stages", "spearman"}
        if not needed <= set(sanity.columns):
            raise Missing("column " + ", ".join(sorted(needed - set(sanity.columns))))
        stages = pd.to_numeric(sanity["stages"], errors="coerce")
        spearman = pd.to_numeric(sanity["spearman"], errors="coerce")
        top, deepest = {}, {}
        for method in dict.fromkeys(sanity["method"].astype(str)):
            mine = sanity["method"].astype(str) == method
            first = spearman[mine & (stages == 1)]
            if len(first) != 1:
                raise Missing(f"spearman of {method!r} with the output layer random")
            top[method] = float(first.iloc[0])  # NaN: a constant map, no rank correlation
            last = spearman[mine & (stages == stages[mine].max())]
            deepest[method] = float(last.iloc[0])
        defined = {method: number for method, number in top.items() if not pd.isna(number)}
        best = max(defined, key=defined.get) if defined else None
        if best is None or (defined[best] < SIMILAR and len(defined) < len(top)):
            # no method similar, and one whose map is undefined might be: no verdict
            raise Missing("spearman of " + ", ".join(repr(method) for method in top
                                                      if method not in defined))
        measured = ("Spearman to the trained map, output layer random: "
                    + ", ".join(f"{method} {number:.2f}" for method, number in top.items())
                    + "; every stage random: "
                    + ", ".join(f"{method} {number:.2f}" for method, number in deepest.items()))
        return f"{measured} (most similar: {best})", defined[best] >= SIMILAR

    return [
        judged("Limits: Example: Saturated Neurons",
               "a feature the prediction depends on can have almost no gradient",
               "a detector built so that the object patch saturates a sigmoid: removing the "
               "patch flips the prediction, while the gradient gives the patch less of its "
               "|mass| than a uniform map would (the patch's share of the pixels)",
               SAYS["saturation"], saturation, "limits", "limits_figure", datasets=(),
               kind=CONSTRUCTED),
        judged("Limits: Example: Spurious Sensitivity",
               "a pixel with a high gradient can be irrelevant to the prediction",
               f"same detector, one background pixel entering through a small fast "
               f"oscillation: it holds more of the gradient's |mass| than the object patch, "
               f"yet removing it flips nothing and moves the score by less than "
               f"{BARELY:.0%}", SAYS["spurious"], spurious, "limits", "limits_figure",
               datasets=(), kind=CONSTRUCTED),
        judged("Limits: Why Humans Are Misled by Saliency Maps",
               "a randomised network can give saliency maps similar to the trained one's",
               f"cascading randomisation of the scenes ResNet18 (the CAM network) on its test "
               f"images: with the output layer re-initialised, some method's map keeps a mean "
               f"Spearman rank correlation of |maps| of at least {SIMILAR:g} with its trained "
               f"map", SAYS["sanity"], randomised, "sanity", "sanity_figure"),
    ]


def all_claims(tables: Mapping[str, pd.DataFrame], lrp_dataset: str) -> pd.DataFrame:
    """Every course claim from the course's tables (keys: the claims rule's input names);
    ``lrp_dataset``: the course CNN's data (the LRP rules and conservation)."""
    lrp = [{**row, "datasets": (lrp_dataset,)}
           for row in lrp_claims(tables["rules"], tables["conservation"])]
    return pd.DataFrame([*linear_claims(tables["linear"]), *lrp, *cam_claims(tables["cam"]),
                         *vit_claims(tables["vit_decomposition"], tables["vit_localisation"]),
                         *limits_claims(tables["limits"], tables["sanity"])])
