"""CartoonX's claims (papers/cartoonx/claims.py) and the agreement of explanations they use
(papers/cartoonx/agreement.py): known answers on masks and tables built by hand."""

import numpy as np
import pandas as pd
import pytest
import torch
from skimage import data
from torch import nn

from papers.cartoonx.agreement import (
    agreement,
    chance_corrected,
    comparison_rows,
    shuffled,
    view,
)
from papers.cartoonx.claims import (
    PAPER_STATES,
    curve_claims,
    distortion_claim,
    lambda_claims,
    mean_height,
    perturbation_claim,
    runtime_claim,
    wavelet_claim,
)
from papers.cartoonx.evaluation import PAPER_SECONDS
from papers.cartoonx.rde import RDEResult
from papers.cartoonx.representations import Pixels, Wavelet


def photo(size=64) -> torch.Tensor:
    """skimage's astronaut, (1, 3, size, size) in [0, 1]."""
    image = torch.from_numpy(data.astronaut()).permute(2, 0, 1).float().div(255)
    return nn.functional.interpolate(image[None], size=(size, size), mode="area")


def result(representation, masks) -> RDEResult:
    """An RDE result with the given masks (the other fields play no part here)."""
    empty = torch.zeros(0, len(masks[0]))
    return RDEResult(list(masks), masks[0], empty, empty, torch.zeros(len(masks[0])),
                     representation)


def random_masks(x, representation, generator, keep_lowpass=False) -> list[torch.Tensor]:
    """Uniform random masks, one per part; CartoonX's approximation band kept if asked."""
    masks = [torch.rand(len(x), 1, *part.shape[2:], generator=generator)
             for part in representation.analyse(x)]
    if keep_lowpass:
        masks[0] = torch.ones_like(masks[0])
    return masks


def test_uninformative_masks_agree_at_chance_in_both_representations():
    """The bias of a raw PCC: two cartoons from independent random detail masks correlate
    strongly (through the image and the kept lowpass band), two random pixel masks do
    not. Chance-corrected, both sit at 0, so neither method looks less sensitive."""
    x, generator = photo(128), torch.Generator().manual_seed(0)
    corrected = {}
    for name, representation, lowpass in (("cartoonx", Wavelet("db3", 5, "zero"), True),
                                          ("pixel_rde", Pixels(), False)):
        first, second = (result(representation, random_masks(x, representation, generator,
                                                             lowpass)) for _ in range(2))
        for shown in ("kept", "mask"):
            score, chance = agreement(first, second, x, shown, 16, generator)
            corrected[name, shown] = float(chance_corrected(score, chance)[0])
            if (name, shown) == ("cartoonx", "kept"):
                assert score > 0.9, score  # the raw PCC that favoured CartoonX
            if (name, shown) == ("pixel_rde", "mask"):
                assert abs(score) < 0.1, score
        same, same_chance = agreement(first, first, x, "kept", 4, generator)
        assert float(chance_corrected(same, same_chance)[0]) == pytest.approx(1.0, abs=1e-5)
    assert all(abs(value) < 0.1 for value in corrected.values()), corrected


def test_all_ones_masks_are_undefined_as_masks_and_the_greyscale_image_when_kept():
    """lambda = 0 leaves the masks at ones (the paper's Fig. 8a): a constant mask has no
    PCC in either representation; kept, both show the greyscale image."""
    x = photo(32)
    kept = []
    for representation in (Wavelet("db3", 5, "zero"), Pixels()):
        ones = result(representation, [torch.ones(1, 1, *part.shape[2:])
                                       for part in representation.analyse(x)])
        other = result(representation, random_masks(x, representation,
                                                    torch.Generator().manual_seed(1)))
        score, chance = agreement(ones, other, x, "mask", 2, torch.Generator().manual_seed(0))
        assert torch.isnan(score).all() and torch.isnan(chance).all()
        score, _ = agreement(ones, other, x, "kept", 2, torch.Generator().manual_seed(0))
        assert torch.isfinite(score).all()
        kept.append(view(ones, x, "kept"))
    torch.testing.assert_close(kept[0], kept[1], atol=1e-5, rtol=0)
    torch.testing.assert_close(kept[1], x.mean(1, keepdim=True))


def test_shuffles_permute_each_images_entries_within_each_part():
    x = photo(32).expand(2, -1, -1, -1)
    wavelet = Wavelet("db3", 5, "zero")
    original = result(wavelet, random_masks(x, wavelet, torch.Generator().manual_seed(0)))
    mixed = shuffled(original, torch.Generator().manual_seed(1))
    for before, after in zip(original.masks, mixed.masks, strict=True):
        assert after.shape == before.shape and not torch.equal(after, before)
        for image in range(2):
            torch.testing.assert_close(after[image].flatten().sort().values,
                                       before[image].flatten().sort().values)


def test_chance_correction_is_zero_at_chance_one_when_identical_and_undefined_at_one():
    values = chance_corrected([0.85, 0.7, 1.0, np.nan, 0.9], [0.7, 0.7, 0.7, 0.5, 1.0])
    np.testing.assert_allclose(values[:3], [0.5, 0.0, 1.0])
    assert np.isnan(values[3:]).all()


def test_comparison_rows_name_each_pair_view_and_image():
    x = photo(32).expand(2, -1, -1, -1)
    pixels = Pixels()
    results = {value: result(pixels, random_masks(x, pixels, torch.Generator().manual_seed(value)))
               for value in (0, 10, 40)}
    rows = pd.DataFrame(comparison_rows(results, [(0, 10), (10, 40)], x, ("kept", "mask"), 2, 0,
                                        method="pixel_rde"))
    assert len(rows) == 2 * 2 * 2
    assert set(zip(rows["first"], rows["second"], strict=True)) == {("0", "10"), ("10", "40")}
    assert (rows["method"] == "pixel_rde").all() and rows[["pcc", "chance"]].notna().all().all()


# --------------------------------------------------------------------------- claims


def agreement_frame(values: dict) -> pd.DataFrame:
    """Rows from {(method, first, second, image): (pcc, chance)} in the mask view."""
    return pd.DataFrame([{"method": method, "first": first, "second": second, "view": "mask",
                          "image": image, "pcc": pcc, "chance": chance}
                         for (method, first, second, image), (pcc, chance) in values.items()])


def test_lambda_sensitivity_is_chance_corrected_over_the_cells_both_methods_define():
    """CartoonX's raw PCC is the higher, but so is its chance level: corrected, Pixel RDE
    changes less. The lambda = 0 cell undefined for Pixel RDE (a constant mask) is dropped
    for CartoonX too, and counted."""
    frame = agreement_frame({
        ("cartoonx", 0, 10, 0): (0.99, 0.2), ("pixel_rde", 0, 10, 0): (np.nan, np.nan),
        ("cartoonx", 10, 40, 0): (0.85, 0.7), ("pixel_rde", 10, 40, 0): (0.7, 0.0),
        ("cartoonx", 10, 40, 1): (0.88, 0.7), ("pixel_rde", 10, 40, 1): (0.5, 0.0)})
    (row,) = lambda_claims("sweep", frame)
    assert row["source"] == "Fig. 8a" and not row["holds"]
    assert "CartoonX 0.550 (PCC 0.865, chance 0.700), Pixel RDE 0.600" in row["measured"]
    assert "1 of 3 (lambda pair, image) cells" in row["measured"]
    assert "(1 with lambda = 0)" in row["measured"]
    frame.loc[(frame["method"] == "pixel_rde") & (frame["image"] == 1), "pcc"] = 0.3
    (row,) = lambda_claims("sweep", frame)
    assert row["holds"]  # 0.55 against (0.7 + 0.3) / 2


def test_mean_height_interpolates_to_the_upper_end():
    assert mean_height([0, 0.5, 1], [0, 0.5, 1], 0.5) == pytest.approx(0.25)
    assert mean_height([0, 0.5, 1], [0, 0.5, 1], 0.25) == pytest.approx(0.125)
    with pytest.raises(ValueError, match="does not reach"):
        mean_height([0, 0.1], [1, 0], 0.2)


def budget_curves(per_pixel: dict) -> pd.DataFrame:
    """Keep and randomise curves that depend only on the components kept per pixel."""
    fractions = np.linspace(0, 1, 21)
    rows = []
    for method, ratio in per_pixel.items():
        kept = np.minimum(fractions * ratio, 1)
        for curve, heights in (("keep", 1 - kept), ("randomise", kept)):
            rows += [{"method": method, "components_per_pixel": ratio, "curve": curve,
                      "fraction": f, "mean": h} for f, h in zip(fractions, heights, strict=True)]
    return pd.DataFrame(rows)


def test_a_representation_with_more_components_wins_only_by_the_fraction_budget():
    """Every method's distortion depends only on how many numbers per pixel it keeps; the
    wavelet has 1.42 per pixel. By fraction it looks better; at equal budget it ties."""
    rows = curve_claims("e", budget_curves({"cartoonx": 1.42, "pixel_rde": 1.0}), 0.2)
    verdicts = {(row["source"], "per pixel" in row["claim"]): row["holds"] for row in rows}
    assert verdicts == {("Fig. 7a", False): True, ("Fig. 7a", True): False,
                        ("Fig. 7b", False): True, ("Fig. 7b", True): False}


def perturbation_curves(gaussian_home: float, zero_home: float) -> pd.DataFrame:
    """Keep curves: each mask's distortion at fraction 0.5 under each randomisation."""
    heights = {("gaussian", "gaussian"): gaussian_home, ("gaussian", "zero"): 0.3,
               ("zero", "gaussian"): 0.4, ("zero", "zero"): zero_home,
               ("random", "gaussian"): 0.5, ("random", "zero"): 0.5}
    return pd.DataFrame([{"mask": mask, "randomisation": randomisation, "curve": "keep",
                          "fraction": fraction, "mean": height if fraction == 0.5 else
                          (0.6 if fraction == 0 else 0.0)}
                         for (mask, randomisation), height in heights.items()
                         for fraction in (0.0, 0.5, 1.0)])


def test_gaussian_is_more_meaningful_only_if_it_wins_under_both_randomisations():
    assert perturbation_claim(perturbation_curves(0.2, 0.35), 0.5)["holds"]
    lost_at_home = perturbation_claim(perturbation_curves(0.2, 0.25), 0.5)
    assert not lost_at_home["holds"]
    assert "randomised with zero: Gaussian mask 0.4500, zero mask 0.4250" in \
        lost_at_home["measured"]


def kept_agreement(panel: str, pairs: dict) -> pd.DataFrame:
    return pd.DataFrame([{"panel": panel, "method": "cartoonx", "first": first,
                          "second": second, "view": "kept", "image": 0, "pcc": pcc,
                          "chance": 0.5} for (first, second), pcc in pairs.items()])


def test_wavelets_are_consistent_except_haar_when_every_other_pair_agrees_more():
    seeds = kept_agreement("seed", {("seed 0", "seed 1"): 0.95})
    wavelets = {("haar", "db3"): 0.7, ("haar", "sym4"): 0.8, ("db3", "sym4"): 0.85}
    table = pd.concat([kept_agreement("c", wavelets), seeds])
    row = wavelet_claim(table)
    assert row["holds"] and "db3-sym4 0.700" in row["measured"]
    assert "two noise seeds seed 0-seed 1 0.900" in row["measured"]
    wavelets[("db3", "sym4")] = 0.75
    assert not wavelet_claim(pd.concat([kept_agreement("c", wavelets), seeds]))["holds"]
    with pytest.raises(ValueError, match="haar"):
        wavelet_claim(pd.concat([kept_agreement("c", {("db3", "sym4"): 0.9}), seeds]))


def test_distortions_have_no_significant_effect_when_they_agree_as_well_as_two_seeds():
    seeds = kept_agreement("seed", {("seed 0", "seed 1"): 0.9})
    close = kept_agreement("d", {("label", "kl"): 0.95, ("label", "l2"): 0.9})
    assert distortion_claim(pd.concat([close, seeds]))["holds"]
    apart = kept_agreement("d", {("label", "kl"): 0.95, ("label", "l2"): 0.8})
    assert not distortion_claim(pd.concat([apart, seeds]))["holds"]


def test_runtime_claim_quotes_the_papers_seconds_from_their_one_source():
    runtime = pd.DataFrame({"method": ["cartoonx", "pixel_rde"], "batch": [1, 1],
                            "seconds_per_explanation": [3.0, 2.0], "device": ["cpu", "cpu"]})
    row = runtime_claim(runtime)
    assert row["holds"] and row["measured"] == "3.00 s vs 2.00 s"
    assert f"CartoonX {PAPER_SECONDS['cartoonx']:.2f} s vs Pixel RDE " \
           f"{PAPER_SECONDS['pixel_rde']:.2f} s" in row["paper_value"]
    assert row["source"] == "Limitations" and row["output"] == "runtime"


def test_lambda_sensitivity_without_a_cell_defined_for_both_is_not_measured():
    """Where every cell is undefined for one method the claim is kept, judged neither way."""
    frame = agreement_frame({("cartoonx", 0, 10, 0): (0.99, 0.2),
                             ("pixel_rde", 0, 10, 0): (np.nan, np.nan)})
    (row,) = lambda_claims("sweep", frame)
    assert row["holds"] is None and row["measured"].startswith("not measured")


def test_every_claim_names_the_papers_statement_and_its_supporting_files():
    """Each panel's row quotes the paper and names the table and figure behind it."""
    rows = curve_claims("cars_resnet18", budget_curves({"cartoonx": 1.42, "pixel_rde": 1.0}),
                        0.2)
    assert {row["output"] for row in rows} == {"curves_cars_resnet18"}
    assert {row["figure"] for row in rows} == {"figure7ab_cars_resnet18"}
    assert all(row["paper_value"] == PAPER_STATES[row["source"][len("Fig. "):]] for row in rows)
