"""LIME: a known answer, agreement with a LIME-style numpy + sklearn reimplementation, the
kernel against sklearn's cosine distance, batch invariance and a one-region model."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage.segmentation import slic
from sklearn.linear_model import Ridge
from sklearn.metrics import pairwise_distances
from torch import nn

from common.explain.lime import coalitions, kernel_weights, lime, superpixels, weighted_ridge

SIDE = 16


def smooth_images(count: int, side: int = 24, seed: int = 0) -> torch.Tensor:
    """Images in [0, 1] with a few colour regions (SLIC finds one segment in white noise)."""
    coarse = torch.rand(count, 3, 4, 4, generator=torch.Generator().manual_seed(seed))
    return F.interpolate(coarse, size=(side, side), mode="bilinear", align_corners=False)


def grid(block: int, side: int = SIDE) -> torch.Tensor:
    """Square superpixels of ``block`` pixels: (side, side) ids, row-major."""
    index = torch.arange(side) // block
    return index.view(-1, 1) * (side // block) + index.view(1, -1)


def small_cnn() -> nn.Module:
    """A random CNN for 24-pixel images whose probabilities vary visibly (0.07 to 0.56)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(4),
                          nn.Flatten(), nn.Linear(8 * 6 * 6, 5))
    with torch.no_grad():
        model[0].weight.mul_(20)
    return model.eval()


def lime_reference(model, image, target, segments, z, baseline, output="probability",
                   kernel_width=0.25):
    """LIME's lime_image/lime_base steps in numpy for one image: fudged image, masked copies,
    cosine distances to data[0], sqrt(exp(-d^2/w^2)) weights, Ridge(alpha=1) coefficients."""
    image, segments = image.numpy(), segments.numpy()
    fudged = np.full_like(image, baseline) if baseline != "mean" else image.copy()
    if baseline == "mean":
        for label in np.unique(segments):
            fudged[:, segments == label] = image[:, segments == label].mean(1, keepdims=True)
    copies = []
    for row in z:
        copy = image.copy()
        hidden = np.isin(segments, np.where(row == 0)[0])
        copy[:, hidden] = fudged[:, hidden]
        copies.append(copy)
    with torch.no_grad():
        out = model(torch.from_numpy(np.array(copies)))
    labels = (out.softmax(1) if output == "probability" else out)[:, target].double().numpy()
    distances = pairwise_distances(z, z[0].reshape(1, -1), metric="cosine").ravel()
    weights = np.sqrt(np.exp(-(distances ** 2) / kernel_width ** 2))
    ridge = Ridge(alpha=1, fit_intercept=True).fit(z, labels, sample_weight=weights)
    return ridge.coef_[segments]


@pytest.mark.parametrize("baseline", [0.3, "mean"])
def test_known_answer_for_a_model_linear_in_the_superpixels(baseline):
    """logit = w.x + b is exactly linear in z; LIME's coefficients are sklearn's Ridge on the
    exact contributions sum_{p in j} w_p (x_p - fill_p), and near them with many samples."""
    torch.manual_seed(1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * SIDE * SIDE, 2)).eval()
    x = torch.rand(2, 3, SIDE, SIDE)
    segmentation = torch.stack([grid(4), grid(8)])  # 16 and 4 superpixels: padding is used
    samples = 2000
    attribution = lime(model, x, torch.zeros(2, dtype=torch.long), samples=samples,
                       baseline=baseline, segmentation=segmentation, output="logit")
    weight = model[1].weight[0].detach().view(3, SIDE, SIDE)
    for image, segments, ours in zip(x, segmentation, attribution, strict=True):
        count = int(segments.max()) + 1
        masks = torch.stack([segments == label for label in range(count)]).float()
        fill = (torch.full_like(image, baseline) if baseline != "mean" else
                (masks.unsqueeze(1) * image).sum((2, 3), keepdim=True).div(
                    masks.sum((1, 2)).view(-1, 1, 1, 1)).mul(masks.unsqueeze(1)).sum(0))
        exact = (masks * (weight * (image - fill)).sum(0)).sum((1, 2)).double().numpy()
        z = coalitions(count, samples).numpy()
        distances = pairwise_distances(z, z[:1], metric="cosine").ravel()
        ridge = Ridge(alpha=1.0).fit(z, z @ exact, sample_weight=np.sqrt(np.exp(
            -distances ** 2 / 0.25 ** 2)))
        scale = np.abs(exact).max()
        assert np.allclose(ours[0].numpy(), ridge.coef_[segments.numpy()], atol=1e-5 * scale)
        assert np.allclose(ours[0].numpy(), exact[segments.numpy()], atol=0.02 * scale)


@pytest.mark.parametrize("baseline", ["mean", 0.0])
def test_agrees_with_lime_steps_in_numpy_and_sklearn(baseline):
    """A random CNN, three images with different superpixel counts, softmax probability."""
    model, x = small_cnn(), smooth_images(3)
    target = torch.tensor([0, 3, 1])
    segmentation = superpixels(x, segments=20)
    counts = [int(ids.max()) + 1 for ids in segmentation]
    assert len(set(counts)) == 3, counts
    ours = lime(model, x, target, samples=300, segments=20, baseline=baseline)
    for image, label, ids, count, attribution in zip(x, target, segmentation, counts, ours,
                                                     strict=True):
        z = coalitions(count, 300).numpy()
        expected = lime_reference(model, image, int(label), ids, z, baseline)
        error = np.abs(attribution[0].numpy() - expected).max()
        assert error <= 1e-5 * np.abs(expected).max() and np.abs(expected).max() > 1e-3


def test_kernel_is_limes_on_sklearns_cosine_distance():
    z = coalitions(6, 200, seed=3)
    counts = torch.tensor([2, 6, 4])
    padded = z.unsqueeze(0) * (torch.arange(6) < counts.unsqueeze(1)).unsqueeze(1)
    ours = kernel_weights(padded, counts, kernel_width=0.25)
    for count, weights in zip(counts.tolist(), ours, strict=True):
        real = z[:, :count].numpy()
        if count == 2:
            assert (real.sum(1) == 0).any()  # sklearn's zero-norm case is exercised
        distances = pairwise_distances(real, np.ones((1, count)), metric="cosine").ravel()
        expected = np.sqrt(np.exp(-(distances ** 2) / 0.25 ** 2))
        assert np.allclose(weights.numpy(), expected, atol=1e-12)
    assert torch.all(ours[:, 0] == 1)  # the image itself: distance 0, weight 1


def test_weighted_ridge_is_sklearns_ridge_and_padding_gets_zero():
    generator = torch.Generator().manual_seed(2)
    z = coalitions(5, 100, seed=1)
    z[:, 4] = 0  # a padding column
    y = torch.rand(100, generator=generator, dtype=torch.float64)
    weights = torch.rand(100, generator=generator, dtype=torch.float64)
    ours = weighted_ridge(z.unsqueeze(0), y.unsqueeze(0), weights.unsqueeze(0), alpha=1.0)[0]
    ridge = Ridge(alpha=1.0).fit(z[:, :4].numpy(), y.numpy(), sample_weight=weights.numpy())
    assert np.allclose(ours[:4].numpy(), ridge.coef_, atol=1e-10)
    assert ours[4] == 0


def test_coalitions_first_row_is_the_image_and_columns_do_not_depend_on_width():
    wide, narrow = coalitions(40, 500, keep=0.3), coalitions(7, 500, keep=0.3)
    assert torch.all(wide[0] == 1) and torch.equal(wide[:, :7], narrow)
    assert abs(wide[1:].mean().item() - 0.3) < 0.02


def test_batch_invariance_determinism_and_the_model_left_unchanged():
    model, x = small_cnn(), smooth_images(3, seed=4)
    target = torch.tensor([2, 0, 4])
    state = {key: value.clone() for key, value in model.state_dict().items()}
    batch = lime(model, x, target, samples=200, segments=20)
    alone = torch.cat([lime(model, x[i:i + 1], target[i:i + 1], samples=200, segments=20)
                       for i in range(3)])
    assert torch.allclose(batch, alone, atol=1e-6)
    assert torch.equal(batch, lime(model, x, target, samples=200, segments=20))
    assert not torch.allclose(batch, lime(model, x, target, samples=200, segments=20, seed=1))
    assert batch.shape == (3, 1, 24, 24)
    assert not model.training and all(torch.equal(value, state[key])
                                      for key, value in model.state_dict().items())
    assert not any(module._forward_hooks or module._forward_pre_hooks
                   for module in model.modules())


class OneRegion(nn.Module):
    """Class 0's logit is 8 x the mean of the pixels in rows/cols [start, stop); class 1's is 0."""

    def __init__(self, start: int, stop: int):
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x):
        region = x[:, :, self.start:self.stop, self.start:self.stop].mean((1, 2, 3))
        return torch.stack([8 * region, torch.zeros_like(region)], 1)


def test_a_one_region_model_is_explained_by_the_superpixel_covering_it():
    x = 0.5 + 0.5 * smooth_images(2, side=SIDE, seed=5)
    target = torch.zeros(2, dtype=torch.long)
    segmentation = grid(4).expand(2, -1, -1)
    attribution = lime(OneRegion(4, 8), x, target, samples=300, baseline=0.0,
                       segmentation=segmentation)[:, 0]
    inside = segmentation == 5  # block (1, 1) is rows and columns 4..7
    for heatmap, region in zip(attribution, inside, strict=True):
        assert heatmap[region].min() > 0 and heatmap[~region].max() < 0.1 * heatmap.max()

    x = smooth_images(1, side=32, seed=6)
    ids = superpixels(x, segments=30)[0]
    model = OneRegion(10, 20)
    heatmap = lime(model, x, target[:1], samples=500, segments=30, baseline=0.0)[0, 0]
    covering = torch.unique(ids[10:20, 10:20])
    best = ids.flatten()[heatmap.flatten().argmax()]
    assert best in covering
    outside = ~torch.isin(ids, covering)
    assert heatmap[outside].max() < heatmap[ids == best].min()


def test_superpixels_slic_grey_images_and_quickshift_on_small_images():
    x = smooth_images(2, side=32, seed=7)
    ids = superpixels(x, segments=25)
    assert ids.shape == (2, 32, 32) and ids.dtype == torch.long
    direct = slic(x[0].permute(1, 2, 0).double().numpy(), n_segments=25, compactness=10.0,
                  start_label=0, channel_axis=-1)
    assert np.array_equal(ids[0].numpy(), direct)
    for image in ids:
        assert torch.equal(torch.unique(image), torch.arange(int(image.max()) + 1))
    grey = x[:, :1]
    assert torch.equal(superpixels(grey, segments=25), superpixels(grey.expand(-1, 3, -1, -1),
                                                                   segments=25))
    # LIME's quickshift defaults are tuned for 224-px photographs: few segments at 32 px.
    assert int(superpixels(x, method="quickshift").max()) + 1 < 5 < int(ids.max()) + 1
    with pytest.raises(ValueError, match="unknown segmentation"):
        superpixels(x, method="felzenszwalb")
