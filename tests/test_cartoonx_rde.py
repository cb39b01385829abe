"""CartoonX and Pixel RDE (papers/cartoonx/rde.py): transform, masks, noise, known answers."""

import numpy as np
import pytest
import pywt
import torch
from torch import nn

from common import budget
from papers.cartoonx.rate_distortion import (
    CURVES,
    distortion_curves,
    keep_top,
    randomise_top,
    rank_positions,
    top_selection,
)
from papers.cartoonx.rde import (
    RDEConfig,
    cartoonx,
    config_from_dict,
    distortion,
    expected_distortion,
    normalised_l1,
    obfuscate,
    pixel_rde,
    sample_noise,
)
from papers.cartoonx.representations import Pixels, Wavelet

LO, HI = 24, 40  # the patch that the patch model looks at, in a 64 px image


class PatchModel(nn.Module):
    """Two classes; the logit of class 0 is a function of the mean of one square patch only."""

    def __init__(self, lo=LO, hi=HI):
        super().__init__()
        self.lo, self.hi = lo, hi

    def forward(self, x):
        mean = x[:, :, self.lo:self.hi, self.lo:self.hi].mean((1, 2, 3))
        return torch.stack([20 * (mean - 0.6), torch.zeros_like(mean)], 1)


def tiny_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Conv2d(4, 6, 3, stride=2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(6, 3))


def images(count=2, size=32, seed=0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    smooth = torch.rand(count, 3, size // 4, size // 4, generator=generator)
    return nn.functional.interpolate(smooth, size=(size, size), mode="bilinear")


def patch_images(count=2, size=64, lo=LO, hi=HI) -> torch.Tensor:
    """A bright patch (the class-0 evidence) on a darker random background."""
    x = torch.rand(count, 3, size, size, generator=torch.Generator().manual_seed(1)) * 0.6
    x[:, :, lo:hi, lo:hi] = 0.9
    return x


def quick(**settings) -> RDEConfig:
    return RDEConfig(**{"steps": 10, "samples": 4, "lr": 0.05, "levels": 2, "progress": False,
                        **settings})


@pytest.mark.parametrize("size", [(32, 32), (36, 44)])
def test_dwt_round_trip_and_all_ones_explanation_is_the_greyscale_image(size):
    x = torch.rand(2, 3, *size, generator=torch.Generator().manual_seed(0))
    wavelet = Wavelet("db3", 3, "zero")
    parts = wavelet.analyse(x)
    torch.testing.assert_close(wavelet.synthesise(parts, x.shape[-2:]), x, atol=1e-5, rtol=0)
    ones = [torch.ones(len(x), 1, *part.shape[2:]) for part in parts]
    torch.testing.assert_close(wavelet.visualise(ones, x), x.mean(1, keepdim=True),
                               atol=1e-5, rtol=0)


def pywt_coefficients(size: int, wavelet: str, levels: int) -> int:
    """The number of coefficient positions of one channel, counted by PyWavelets."""
    low, *details = pywt.wavedec2(np.zeros((size, size)), wavelet, mode="zero", level=levels)
    return low.size + sum(3 * detail[0].size for detail in details)


@pytest.mark.parametrize("size, levels, per_pixel", [(32, 2, 1.422), (64, 3, 1.252),
                                                     (128, 4, 1.130), (256, 5, 1.066)])
def test_db3_decomposes_only_as_deep_as_the_image_supports(size, levels, per_pixel):
    """The paper's J = 5 at 256 px; fewer levels at smaller sizes, as PyWavelets would
    choose for a 6-tap filter, and the coefficient positions are PyWavelets' count."""
    wavelet = Wavelet("db3", 5, "zero")
    assert wavelet.levels_for((size, size)) == levels == pywt.dwt_max_level(size, 6)
    parts = wavelet.analyse(torch.zeros(1, 1, size, size))
    assert len(parts) == levels + 1
    count = sum(part[0, 0].numel() for part in parts)
    assert count == pywt_coefficients(size, "db3", levels)
    assert count / size ** 2 == pytest.approx(per_pixel, abs=5e-4)
    assert count <= pywt_coefficients(size, "db3", 5)  # five levels: 1.69 per pixel at 32 px


def test_levels_is_the_most_scales_and_every_transform_has_at_least_one():
    assert Wavelet("db3", 2, "zero").levels_for((256, 256)) == 2
    assert Wavelet("haar", 5, "zero").levels_for((32, 32)) == 5  # 2 taps: 32 px supports 5
    assert Wavelet("db3", 5, "zero").levels_for((64, 36)) == 2  # the shorter side decides
    assert Wavelet("db3", 5, "zero").levels_for((4, 4)) == 1
    x = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    wavelet = Wavelet("db3", 5, "zero")
    torch.testing.assert_close(wavelet.synthesise(wavelet.analyse(x), x.shape[-2:]), x,
                               atol=1e-5, rtol=0)


def test_masks_fractions_and_normalised_l1_count_the_coefficients_of_the_applied_transform():
    """At 32 px CartoonX with the paper's J = 5 masks 2 levels' coefficients (1456), not
    five levels' (1735): the fraction kept and ||s||_1 / k are over those 1456."""
    x = images(1, 32)
    result = cartoonx(tiny_cnn(), x, quick(steps=0, levels=5))
    entries = pywt_coefficients(32, "db3", 2)
    assert sum(mask[0].numel() for mask in result.masks) == entries == 1456
    selection = top_selection(result.masks, 0.1, torch.Generator().manual_seed(0))
    assert sum(int(chosen.sum()) for chosen in selection) == round(0.1 * entries)
    half = [0.5 * mask for mask in result.masks]
    shrunk = [mask.clone() for mask in half]
    shrunk[0].zero_()  # drop the approximation band: l1 falls by its share of the entries
    expected = 0.5 * (entries - result.masks[0][0].numel()) / entries
    torch.testing.assert_close(normalised_l1(shrunk), torch.tensor([expected]))


def test_zero_steps_give_all_ones_masks_shared_across_channels():
    x = images(2, 32)
    result = cartoonx(tiny_cnn(), x, quick(steps=0))
    low, *high = Wavelet("db3", 2, "zero").analyse(x)
    assert result.yl_mask.shape == (2, 1, *low.shape[2:])
    assert [m.shape for m in result.yh_masks] == [(2, 1, 3, *h.shape[3:]) for h in high]
    assert all(bool((mask == 1).all()) for mask in result.masks)
    torch.testing.assert_close(result.explanation, x.mean(1, keepdim=True), atol=1e-5, rtol=0)
    assert result.distortion.shape == result.l1.shape == (0, 2)
    pixels = pixel_rde(tiny_cnn(), x, quick(steps=0))
    assert len(pixels.masks) == 1 and pixels.masks[0].shape == (2, 1, 32, 32)
    assert bool((pixels.explanation == 1).all())


@pytest.mark.parametrize("method", [cartoonx, pixel_rde])
def test_masks_are_clamped_into_the_unit_interval_after_every_step(method):
    # Without sparsity the "maximize" gradient pushes some entries up from 1 (clamped back
    # to 1) and others down by lr per step (clamped at 0 on the third step).
    x, model = images(1, 32), tiny_cnn()
    for steps in (1, 2, 3):
        masks = method(model, x, quick(steps=steps, lr=0.4, sparsity=0.0,
                                       distortion="maximize")).masks
        values = torch.cat([mask.flatten() for mask in masks])
        assert values.min() >= 0 and values.max() <= 1
        assert values.max() == 1
    assert values.min() == 0


def test_adaptive_noise_has_the_per_scale_mean_and_std_of_the_coefficients():
    x = images(2, 32)
    for representation in (Wavelet("db3", 3, "zero"), Pixels()):
        parts = representation.analyse(x)
        noise = sample_noise(parts, 400, "gaussian", torch.Generator().manual_seed(0))
        for part, sample in zip(parts, noise, strict=True):
            assert sample.shape == (2, 400, *part.shape[1:])
            for image in range(2):
                mean, std = part[image].mean(), part[image].std(correction=0)
                assert abs(sample[image].mean() - mean) < 0.02 * std
                assert abs(sample[image].std() / std - 1) < 0.02
    # uniform: same mean, on [mean - std, mean + std]; zero: nothing but zeros
    parts = Wavelet("db3", 3, "zero").analyse(x)
    uniform = sample_noise(parts, 400, "uniform", torch.Generator().manual_seed(0))
    for part, sample in zip(parts, uniform, strict=True):
        mean, std = part[0].mean(), part[0].std(correction=0)
        assert abs(sample[0].mean() - mean) < 0.02 * std
        assert sample[0].min() >= mean - std - 1e-6 and sample[0].max() <= mean + std + 1e-6
    zero = sample_noise(parts, 3, "zero", torch.Generator())
    assert all(bool((sample == 0).all()) for sample in zero)


def test_the_mask_concentrates_on_the_only_region_the_model_sees():
    x, model = patch_images(), PatchModel()
    inside = torch.zeros(64, 64, dtype=torch.bool)
    inside[LO:HI, LO:HI] = True
    settings = {"steps": 60, "samples": 8, "lr": 0.05, "levels": 3, "progress": False}
    for method, sparsity in ((pixel_rde, 5.0), (cartoonx, 20.0)):
        result = method(model, x, RDEConfig(sparsity=sparsity, **settings))
        assert (result.labels == 0).all()
        explanation = result.explanation[:, 0]
        mean_inside = explanation[:, inside].mean(1)
        mean_outside = explanation[:, ~inside].mean(1)
        assert (mean_inside > 3 * mean_outside).all(), (method.__name__, mean_inside,
                                                          mean_outside)


@pytest.mark.parametrize("kind", ["label", "l2", "kl"])
def test_distortion_vanishes_for_the_full_mask_and_grows_when_it_is_zeroed(kind):
    x, model = patch_images(), PatchModel()
    config = quick(distortion=kind, samples=8)
    for representation in (Wavelet("db3", 2, "zero"), Pixels()):
        parts = representation.analyse(x)
        ones = [torch.ones(len(x), 1, *part.shape[2:]) for part in parts]
        zeros = [torch.zeros_like(mask) for mask in ones]
        kept = expected_distortion(model, x, ones, representation, config)
        lost = expected_distortion(model, x, zeros, representation, config)
        assert (kept.abs() < 1e-6).all() and (lost > 0.1).all(), (kind, kept, lost)


def test_distortion_measures_match_their_definitions():
    logits = torch.tensor([[[2.0, 0.0, -1.0], [0.0, 1.0, 0.5]]])  # (B=1, L=2, K=3)
    reference = torch.tensor([[1.0, 0.5, 0.0]]).log_softmax(-1)
    labels = torch.tensor([0])
    p_y, p_x = logits.softmax(-1), reference.exp()
    expected = {
        "label": (p_x[:, 0:1] - p_y[..., 0]) ** 2,
        "maximize": (1 - p_y[..., 0]) ** 2,
        "l2": ((p_y - p_x[:, None]) ** 2).sum(-1).sqrt(),
        "kl": (p_y * (p_y / p_x[:, None]).log()).sum(-1),
    }
    for kind, value in expected.items():
        torch.testing.assert_close(distortion(logits, reference, labels, kind), value)


def test_obfuscations_are_clamped_into_the_unit_interval():
    x = images(2, 32)
    wavelet = Wavelet("db3", 2, "zero")
    parts = wavelet.analyse(x)
    noise = sample_noise(parts, 5, "gaussian", torch.Generator().manual_seed(0))
    halves = [torch.full((2, 1, *part.shape[2:]), 0.5) for part in parts]
    obfuscated = obfuscate(parts, halves, noise, wavelet, x.shape[-2:])
    assert obfuscated.shape == (10, 3, 32, 32)
    assert obfuscated.min() == 0 and obfuscated.max() == 1  # the noise overshoots; clamped


def test_a_larger_lambda_gives_a_sparser_mask_and_a_larger_distortion():
    x, model = patch_images(1), PatchModel()
    loose, tight = (cartoonx(model, x, quick(steps=40, sparsity=sparsity, levels=3))
                    for sparsity in (1.0, 100.0))
    assert tight.l1[-1] < 0.75 * loose.l1[-1]
    assert tight.distortion[-10:].mean() > loose.distortion[-10:].mean()


@pytest.mark.parametrize("method", [cartoonx, pixel_rde])
def test_without_sparsity_pressure_the_mask_stays_at_ones(method):
    """lambda = 0: at s = 1 every obfuscation is the image, so the label distortion and its
    gradient vanish for any noise, and Adam never moves the mask off its initial ones."""
    x, model = images(2, 32), tiny_cnn()
    result = method(model, x, quick(steps=20, sparsity=0.0, lr=0.1))
    assert all(bool((mask == 1).all()) for mask in result.masks)
    assert (result.distortion.abs() < 1e-10).all()
    if method is cartoonx:
        torch.testing.assert_close(result.explanation, x.mean(1, keepdim=True),
                                   atol=1e-5, rtol=0)


@pytest.mark.parametrize("method", [cartoonx, pixel_rde])
def test_a_huge_lambda_drives_the_mask_to_zero(method):
    x, model = images(2, 32), tiny_cnn()
    result = method(model, x, quick(steps=40, sparsity=1e6, lr=0.1))
    assert all(bool((mask == 0).all()) for mask in result.masks)
    assert (result.l1[-1] == 0).all()


def test_optimisation_lowers_the_objective_on_a_real_photo():
    """skimage's astronaut through the pretrained EfficientNet-Lite0 (its label kept): the
    RDE objective falls, and the optimised mask keeps the prediction better than the same
    mask values shuffled within each scale (equal sparsity, other positions)."""
    from skimage import data

    from common.models.pretrained import load_imagenet_classifier

    photo = torch.from_numpy(data.astronaut()).permute(2, 0, 1).float().div(255)
    x = nn.functional.interpolate(photo[None], size=(64, 64), mode="area")
    model = load_imagenet_classifier("efficientnet_lite0")
    config = quick(steps=60, samples=8, lr=0.05, levels=3, sparsity=20.0)
    result = cartoonx(model, x, config)
    objective = result.distortion[:, 0] + config.sparsity * result.l1[:, 0]
    assert objective[-10:].mean() < 0.5 * objective[:10].mean(), objective
    generator = torch.Generator().manual_seed(0)
    shuffled = [mask.flatten()[torch.randperm(mask.numel(), generator=generator)]
                .view_as(mask) for mask in result.masks]
    wavelet = Wavelet("db3", 3, "zero")
    optimised = expected_distortion(model, x, result.masks, wavelet, config)
    scrambled = expected_distortion(model, x, shuffled, wavelet, config)
    assert optimised < 0.5 * scrambled, (optimised, scrambled)


def test_sparsity_term_is_lambda_times_l1_over_the_number_of_entries():
    # k counted independently, with PyWavelets: the approximation and three details per level.
    shapes = pywt.wavedec2(np.zeros((32, 32)), "db3", mode="zero", level=2)
    entries = shapes[0].size + sum(3 * detail[0].size for detail in shapes[1:])
    x, model = images(2, 32), tiny_cnn()
    before = cartoonx(model, x, quick(steps=3, sparsity=30.0)).masks
    after = cartoonx(model, x, quick(steps=4, sparsity=30.0))
    assert sum(mask[0].numel() for mask in before) == entries
    by_hand = torch.stack([sum(mask[i].abs().sum() for mask in before) / entries
                           for i in range(2)])
    torch.testing.assert_close(after.l1[3], by_hand)  # step 4 starts from the 3-step mask
    torch.testing.assert_close(30.0 * normalised_l1(before), 30.0 * by_hand)
    assert (by_hand < 1).all()


@pytest.mark.parametrize("method", [cartoonx, pixel_rde])
def test_a_batch_is_explained_as_its_images_one_by_one(method):
    # A small patch model and lambda make the masks depend on the noise (another seed moves
    # them by about 0.1), so a batch that mixed its images' noise or gradients would show.
    x, model = patch_images(3, 32, 8, 24), PatchModel(8, 24)
    batch = method(model, x, quick(steps=15, sparsity=1.0))
    with budget.limited(2):  # two images a pass: chunks of 2 and 1 images, one sample a pass
        chunked = method(model, x, quick(steps=15, sparsity=1.0))
    for image in range(3):
        alone = method(model, x[image:image + 1], quick(steps=15, sparsity=1.0))
        for together, single in zip(batch.masks, alone.masks, strict=True):
            torch.testing.assert_close(together[image:image + 1], single, atol=1e-5, rtol=0)
        torch.testing.assert_close(batch.l1[:, image:image + 1], alone.l1, atol=1e-5, rtol=0)
    for together, in_chunks in zip(batch.masks, chunked.masks, strict=True):
        torch.testing.assert_close(together, in_chunks, atol=1e-5, rtol=0)
    torch.testing.assert_close(batch.l1, chunked.l1, atol=1e-5, rtol=0)
    torch.testing.assert_close(batch.distortion, chunked.distortion, atol=1e-5, rtol=1e-5)


def test_same_seed_same_explanation_other_seed_other_explanation():
    x, model = patch_images(1, 32, 8, 24), PatchModel(8, 24)
    first, again = (cartoonx(model, x, quick(seed=3, sparsity=1.0)) for _ in range(2))
    other = cartoonx(model, x, quick(seed=4, sparsity=1.0))
    assert all(torch.equal(a, b) for a, b in zip(first.masks, again.masks, strict=True))
    assert (first.explanation - other.explanation).abs().max() > 0.01


def test_the_model_and_the_global_random_state_are_left_as_they_were():
    model = tiny_cnn().train()
    model[0].bias.requires_grad_(False)
    flags = [p.requires_grad for p in model.parameters()]
    state = {name: value.clone() for name, value in model.state_dict().items()}
    rng = torch.get_rng_state()
    cartoonx(model, images(2, 32), quick(steps=3))
    pixel_rde(model, images(2, 32), quick(steps=3))
    assert all(module.training for module in model.modules())
    assert [p.requires_grad for p in model.parameters()] == flags
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(state[name], value) for name, value in model.state_dict().items())
    assert not any(m._forward_hooks or m._forward_pre_hooks or m._backward_hooks
                   for m in model.modules())
    assert torch.equal(torch.get_rng_state(), rng)


def test_config_from_dict_names_unknown_keys_and_checks_choices():
    assert config_from_dict({"steps": 5, "sparsity": 40}) == RDEConfig(steps=5, sparsity=40)
    with pytest.raises(KeyError, match="lamda"):
        config_from_dict({"lamda": 3})
    with pytest.raises(ValueError, match="perturbation"):
        config_from_dict({"perturbation": "blur"})


def test_keep_top_keeps_the_highest_ranked_positions_and_randomises_the_rest():
    x = images(2, 16)
    mask = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    top = mask.flatten(1) >= mask.flatten(1).quantile(0.75, dim=1, keepdim=True)
    kept = keep_top(x, mask, 0.25, torch.Generator().manual_seed(0), Pixels())
    same = (kept == x).all(1).flatten(1)
    assert torch.equal(same, top)
    flipped = randomise_top(x, mask, 0.25, torch.Generator().manual_seed(0), Pixels())
    assert torch.equal((flipped == x).all(1).flatten(1), ~top)
    wavelet = Wavelet("db3", 2, "zero")
    masks = [torch.rand(2, 1, *part.shape[2:]) for part in wavelet.analyse(x)]
    whole = keep_top(x, masks, 1.0, torch.Generator().manual_seed(0), wavelet)
    torch.testing.assert_close(whole, x, atol=1e-5, rtol=0)


def test_distortion_curves_follow_their_definition_and_pass_the_originals_once():
    """Each point is the mean over draws of ||softmax(f(x)) - softmax(f(y))||_2 for the
    obfuscations y, computed here by hand; the curves pass the original images through the
    model once for all their points, and record no gradients."""
    x, model = patch_images(3, 32, 8, 24), PatchModel(8, 24)
    mask = torch.rand(3, 1, 32, 32, generator=torch.Generator().manual_seed(2))
    passes = []
    handle = model.register_forward_pre_hook(
        lambda module, args: passes.append((args[0].clone(), torch.is_grad_enabled())))
    try:
        rows = distortion_curves(model, x, mask, Pixels(), [0.25, 0.5], draws=2, seed=0)
    finally:
        handle.remove()
    assert sum(torch.equal(images, x) for images, _ in passes) == 1
    assert not any(recording for _, recording in passes)
    by_hand = []
    with torch.no_grad():
        reference = model(x).softmax(1)
        for curve, obfuscation in CURVES.items():
            for fraction in (0.25, 0.5):
                generator = torch.Generator().manual_seed(0)
                total = sum(torch.linalg.vector_norm(reference - model(obfuscation(
                    x, [mask], fraction, generator, Pixels(), "gaussian")).softmax(1), dim=1)
                    for _ in range(2))
                by_hand += [(curve, fraction, image, value)
                            for image, value in enumerate((total / 2).tolist())]
    assert [tuple(row.values())[:3] for row in rows] == [row[:3] for row in by_hand]
    assert [row["distortion"] for row in rows] == pytest.approx([row[3] for row in by_hand],
                                                                rel=1e-6)


def test_ties_are_ranked_in_a_seeded_random_order():
    flat = torch.ones(1, 1, 8, 8)
    first, again, other = (rank_positions(flat, torch.Generator().manual_seed(seed))
                           for seed in (0, 0, 1))
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert sorted(first[0].tolist()) == list(range(64))


@pytest.mark.parametrize("method", [cartoonx, pixel_rde])
def test_every_pass_of_the_optimisation_fits_the_memory_budget(method):
    x, model = patch_images(3, 32, 8, 24), PatchModel(8, 24)
    sizes = []
    handle = model.register_forward_pre_hook(lambda module, args: sizes.append(len(args[0])))
    try:
        with budget.limited(4):
            method(model, x, quick(steps=2, samples=5))
    finally:
        handle.remove()
    assert max(sizes) <= 4, sorted(set(sizes))


def test_evaluation_images_are_a_seeded_sample_across_the_split_and_never_truncated():
    """Class-folder datasets store their images class by class: the first 6 of this split
    are one class, a random sample of 6 covers both; asking for more than exists names the key."""
    from common.data import ImageSplit
    from papers.cartoonx.evaluation import select_images

    labels = torch.arange(20) // 10
    split = ImageSplit(labels.float().view(-1, 1, 1, 1).expand(20, 3, 4, 4), labels, None,
                       ("a", "b"), names=tuple(f"image{i}" for i in range(20)))
    x, names = select_images(split, 6, None, key="cartoonx.evaluations.e.images", seed=0)
    assert set(x[:, 0, 0, 0].tolist()) == {0.0, 1.0}
    assert select_images(split, 6, None, key="k", seed=0)[1] == names
    assert select_images(split, 6, None, key="k", seed=1)[1] != names
    with pytest.raises(ValueError, match="'cartoonx.evaluations.e.images': 21 images"):
        select_images(split, 21, None, key="cartoonx.evaluations.e.images", seed=0)
