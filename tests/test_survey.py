"""The survey's own parts: simulated observers and the claims logic, on known answers."""

import numpy as np
import pandas as pd
import pytest
import torch

from common.metrics.comparison import pcc, sim
from papers.survey.claims import (
    CLAIMED_METHODS,
    aopc_claim,
    human_likeness_claims,
    randomisation_verdicts,
    speed_claim,
)
from papers.survey.observers import Observers, centre_prior, fixation_counts, simulate_density
from papers.survey.table1 import RECORDED_GAZE, SIMULATED_OBSERVERS


def square_masks(count=4, size=48) -> torch.Tensor:
    """Objects at different places and sizes, none at the centre."""
    masks = torch.zeros(count, size, size, dtype=torch.bool)
    for index in range(count):
        top, side = 4 + 6 * index, 8 + 2 * index
        masks[index, top:top + side, 2:2 + side] = True
    return masks


def test_density_maps_are_deterministic_per_image_and_change_with_the_seed():
    masks, settings = square_masks(), Observers()
    first, again = simulate_density(masks, settings, 0), simulate_density(masks, settings, 0)
    assert torch.equal(first, again)
    assert torch.equal(simulate_density(masks[:2], settings, 0), first[:2])
    assert not torch.equal(simulate_density(masks, settings, 1), first)
    assert first.shape == (4, 48, 48) and torch.allclose(first.amax((1, 2)), torch.ones(4))
    assert first.min() >= 0


def test_fixations_land_on_the_object_as_often_as_configured():
    mask = square_masks(1)[0].numpy()
    settings = Observers(observers=200, fixations=50, on_object=0.8)
    counts = fixation_counts(mask, settings, np.random.default_rng(0))
    assert counts.sum() == 200 * 50
    share_inside = counts[mask].sum() / counts.sum()
    area = mask.mean()
    expected = 0.8 + 0.2 * (centre_prior(48, 48, 0.3)[mask].sum()
                            / centre_prior(48, 48, 0.3).sum())
    assert abs(share_inside - expected) < 0.02 and share_inside > 5 * area


def test_density_concentrates_inside_the_masks_and_agrees_with_them():
    masks = square_masks()
    density = simulate_density(masks, Observers(), 0)
    inside = (density * masks).flatten(1).sum(1) / density.flatten(1).sum(1)
    area = masks.flatten(1).float().mean(1)
    assert (inside > 2.5 * area).all(), (inside, area)
    own = pcc(density, masks.float())
    others = pcc(density, masks.float().roll(1, 0))
    assert (own > 0.5).all() and (own > others + 0.3).all(), (own, others)
    assert (sim(density, masks.float()) > sim(density, masks.float().roll(1, 0))).all()


def test_no_object_preference_gives_the_same_law_whatever_the_mask():
    settings = Observers(observers=100, fixations=100, on_object=0.0)
    masks = square_masks(2)
    one, two = (fixation_counts(mask.numpy(), settings, np.random.default_rng(0))
                for mask in masks)
    assert np.array_equal(one, two)


def test_observer_settings_are_checked():
    with pytest.raises(ValueError, match="on_object"):
        Observers(on_object=1.5)
    with pytest.raises(ValueError, match="at least 1"):
        Observers(observers=0)


def known_table1(sim_means: dict, pcc_means: dict, reference: str = SIMULATED_OBSERVERS,
                 images: int = 32) -> pd.DataFrame:
    """A Table 1 as the table1 rule writes it, with the survey's printed values."""
    printed = {"saliency": (0.4982, 0.2422), "guided_backprop": (0.5724, 0.0779),
               "smoothgrad_saliency": (0.5769, 0.1867), "integrated_gradients": (0.5747, 0.1390),
               "gradcam": (0.5857, 0.3969), "lrp_epsilon": (0.5728, 0.0754),
               "deeplift": (0.5846, 0.2749), "fem": (0.5999, 0.3558)}
    rows = [{"method": method, "sim_mean": sim_means[method], "sim_images": images,
             "pcc_mean": pcc_means[method], "pcc_images": images, "reference": reference,
             "paper_sim_mean": printed.get(method, (None,))[0],
             "paper_pcc_mean": printed.get(method, (None, None))[1]}
            for method in sim_means]
    return pd.DataFrame(rows)


TABLE1_METHODS = ["saliency", "guided_backprop", "smoothgrad_saliency", "integrated_gradients",
                  "gradcam", "lrp_epsilon", "deeplift", "fem", "deconvnet"]
SIMS = dict(zip(TABLE1_METHODS, [0.40, 0.50, 0.45, 0.46, 0.70, 0.41, 0.42, 0.60, 0.90],
                strict=True))
PCCS = dict(zip(TABLE1_METHODS, [0.20, 0.10, 0.25, 0.30, 0.50, 0.05, 0.15, 0.40, 0.95],
                strict=True))


def test_human_likeness_claims_read_the_table_and_check_the_paper_too():
    rows = {row["claim"]: row for row in human_likeness_claims(known_table1(SIMS, PCCS))}
    fem = rows["FEM has the highest SIM with the gaze maps"]
    agrees, contradicts = "its Table 1 agrees", "its own Table 1 contradicts this"
    assert not fem["holds"] and agrees in fem["paper_value"]  # Grad-CAM wins here; FEM in print
    assert fem["paper_value"].startswith("FEM is the most similar to the GFDM in SIM; Table 1: "
                                         "highest fem ")  # the table's own names, if any
    assert "gradcam (0.700)" in fem["measured"]           # DeconvNet is not in Table 1
    gradcam = rows["Grad-CAM has the highest PCC with the gaze maps"]
    assert gradcam["holds"] and agrees in gradcam["paper_value"]
    improve_sim = rows["Integrated Gradients and SmoothGrad improve SIM over plain gradients"]
    improve_pcc = rows["Integrated Gradients and SmoothGrad improve PCC over plain gradients"]
    assert improve_sim["holds"] and agrees in improve_sim["paper_value"]
    assert improve_pcc["holds"] and contradicts in improve_pcc["paper_value"]  # 0.1867 < 0.2422
    assert "0.187" in improve_pcc["paper_value"]  # the printed means are quoted


def test_every_human_likeness_row_says_what_the_maps_were_compared_with():
    """FEM's and Grad-CAM's rows too: simulated observers are not the survey's recorded gaze."""
    simulated = human_likeness_claims(known_table1(SIMS, PCCS, SIMULATED_OBSERVERS))
    recorded = human_likeness_claims(known_table1(SIMS, PCCS, RECORDED_GAZE))
    assert len(simulated) == len(recorded) == 4
    for row in simulated:
        assert row["measured"].startswith("vs SIMULATED OBSERVERS, not recorded gaze: "), row
    for row in recorded:
        assert row["measured"].startswith("vs recorded gaze: ") and "SIMULATED" not in row[
            "measured"], row


def test_pcc_rows_say_which_methods_pcc_left_constant_maps_out():
    """Each PCC row names the methods it compares whose PCC mean is over fewer images."""
    table = known_table1(SIMS, PCCS, images=32)
    for method, images in (("gradcam", 29), ("saliency", 31), ("deconvnet", 20)):
        table.loc[table["method"] == method, "pcc_images"] = images
    rows = {row["claim"]: row["measured"] for row in human_likeness_claims(table)}
    gradcam = "gradcam's PCC over 29 of 32 images (constant maps)"
    saliency = "saliency's PCC over 31 of 32 images (constant maps)"
    best = rows["Grad-CAM has the highest PCC with the gaze maps"]
    improve = rows["Integrated Gradients and SmoothGrad improve PCC over plain gradients"]
    assert gradcam in best and saliency in best and "deconvnet" not in best  # not in Table 1
    assert saliency in improve and "gradcam" not in improve
    assert all("constant maps" not in measured for claim, measured in rows.items()
               if "SIM" in claim)


def test_table1_counts_each_metrics_own_images_when_a_map_is_constant():
    """PCC is undefined on an all-zero map: that image leaves the PCC mean and count, not
    SIM's, and the table says so instead of one image count for both."""
    from papers.survey.table1 import summary_table

    density = torch.rand(4, 8, 8, generator=torch.Generator().manual_seed(0))
    maps = {"gradcam": torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(1)),
            "fem": torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(2))}
    maps["gradcam"][1] = 0
    scores = pd.DataFrame([{"method": method, "metric": metric, "image": image, "score": value}
                           for method, saliency in maps.items()
                           for metric, function in (("sim", sim), ("pcc", pcc))
                           for image, value in enumerate(function(saliency, density).tolist())])
    table = summary_table(scores, SIMULATED_OBSERVERS).set_index("method")
    assert table.loc["gradcam", ["sim_images", "pcc_images"]].tolist() == [4, 3]
    assert table.loc["fem", ["sim_images", "pcc_images"]].tolist() == [4, 4]
    kept = pcc(maps["gradcam"], density)[[0, 2, 3]]
    assert table.loc["gradcam", "pcc_mean"] == pytest.approx(kept.mean().item(), abs=1e-4)
    assert table.loc["gradcam", "pcc_std"] == pytest.approx(kept.std().item(), abs=1e-4)
    assert table.loc["gradcam", "sim_mean"] == pytest.approx(
        sim(maps["gradcam"], density).mean().item(), abs=1e-4)
    assert "images" not in table.columns and (table["reference"] == SIMULATED_OBSERVERS).all()
    assert table.loc["fem", "paper_pcc_mean"] == 0.3558


def test_aopc_and_speed_claims_read_their_tables():
    methods = [("lrp_epsilon", 0.9, 10.0), ("saliency", 0.5, 4.0), ("deconvnet", 0.95, 4.0),
               ("guided_backprop", 0.3, 5.0), ("smoothgrad_saliency", 0.6, 200.0),
               ("integrated_gradients", 0.7, 100.0), ("gradcam", 0.4, 3.0), ("fem", 0.2, 2.0)]
    lrp = aopc_claim(pd.DataFrame([{"method": m, "metric": "aopc", "mean": a}
                                   for m, a, _ in methods]))
    assert not lrp["holds"] and "DeconvNet 0.950" in lrp["measured"]
    timing = pd.DataFrame([{"method": m, "ms_per_image_median": t, "repeats": 5}
                           for m, _, t in methods])
    fem = speed_claim(timing)
    assert fem["holds"] and "gradcam 3.00" in fem["measured"] and "5 calls" in fem["measured"]
    timing.loc[timing["method"] == "fem", "ms_per_image_median"] = 3.5
    assert not speed_claim(timing)["holds"]


def test_pairwise_pcc_is_symmetric_with_a_unit_diagonal_and_knows_anticorrelation():
    from papers.survey.photos import agreement_matrix, pairwise_pcc

    base = torch.rand(3, 1, 8, 8)
    maps = {"a": base, "b": 2 * base + 1, "c": -base, "d": torch.rand(3, 1, 8, 8)}
    scores = pairwise_pcc(maps, ["p0", "p1", "p2"])
    matrix = agreement_matrix(scores).set_index(["method_a", "method_b"])
    assert len(scores) == 16 * 3 and (matrix["photos"] == 3).all()
    assert matrix.loc[("a", "a"), "pcc_mean"] == pytest.approx(1)
    assert matrix.loc[("a", "b"), "pcc_mean"] == pytest.approx(1, abs=1e-5)
    assert matrix.loc[("a", "c"), "pcc_mean"] == pytest.approx(-1, abs=1e-5)
    assert matrix.loc[("a", "d"), "pcc_mean"] == pytest.approx(matrix.loc[("d", "a"), "pcc_mean"])
    assert list(matrix.index.get_level_values(0).unique()) == ["a", "b", "c", "d"]


def test_a_method_passes_randomisation_only_if_every_similarity_drops_in_both_tests():
    rows = []
    for method, deepest, labels in (("saliency", 0.1, 0.2), ("gradcam", 0.3, 0.6),
                                    ("guided_backprop", 0.8, 0.1)):
        for similarity in ("ssim", "spearman", "hog_pcc"):
            rows += [{"method": method, "test": "cascading", "depth": 0, "similarity": similarity,
                      "mean": 0.95},
                     {"method": method, "test": "cascading", "depth": 5, "similarity": similarity,
                      "mean": deepest},
                     {"method": method, "test": "labels", "depth": 0, "similarity": similarity,
                      "mean": labels}]
    verdicts = randomisation_verdicts(pd.DataFrame(rows), 0.5)
    assert verdicts.to_dict() == {"gradcam": False, "guided_backprop": False, "saliency": True}


def test_every_claimed_method_is_registered():
    from common.explain import METHODS

    assert set(CLAIMED_METHODS) <= set(METHODS)


def test_the_registry_passes_a_relu_backwards_by_each_rule_of_fig_6():
    """Survey lines 503-507 and 534-538, written out by hand against common.explain's hooks."""
    from papers.survey.relu_rules import FORWARD_INPUT, SIGNAL_FROM_ABOVE, backward_signals

    x, signal = FORWARD_INPUT, SIGNAL_FROM_ABOVE
    zero = torch.zeros_like(signal)
    expected = {"gradient": torch.where(x > 0, signal, zero),
                "deconvnet": torch.where(signal > 0, signal, zero),
                "guided_backprop": torch.where((x > 0) & (signal > 0), signal, zero)}
    signals = backward_signals()
    for method, values in expected.items():
        assert torch.equal(signals[method], values), method
    assert len({tuple(values.flatten().tolist()) for values in signals.values()}) == 3


def test_recorded_gaze_explains_each_image_for_the_models_top_class():
    """Recorded gaze (MexCulture): the dataset's categories are not the model's classes, so
    each image is explained for the model's own top-1 class, against its own density map."""
    from common.data.store import ImageSplit
    from papers.survey.gaze import reference_maps

    images = torch.rand(5, 3, 8, 8)
    images[::2] *= 0.1  # dark images: class 0 wins; bright ones: class 1
    density = torch.rand(5, 8, 8)
    split = ImageSplit(images, torch.full((5,), -1), None, (), "unlabelled", density=density)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 2))
    with torch.no_grad():
        model[1].weight.copy_(torch.stack([-torch.ones(192), torch.ones(192)]))
        model[1].bias.copy_(torch.tensor([20.0, -20.0]))  # the class boundary at mean 0.104
    x, target, maps, reference = reference_maps(model, split, {"images": 4}, seed=0,
                                                device="cpu")
    assert reference == "recorded gaze" and len(x) == 4
    assert target.tolist() == [0, 1, 0, 1]
    assert torch.equal(maps, density[:4]) and torch.equal(x, images[:4])
