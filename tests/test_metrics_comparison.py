"""Saliency-map comparison metrics against independent implementations and known answers.

The references below are written from the MIT saliency benchmark's MATLAB code
(CC.m, similarity.m, KLdiv.m, NSS.m, AUC_Judd.m) and from scipy / scikit-image,
one image at a time in numpy, without using the module under test.
"""

import math

import numpy as np
import pytest
import torch
from scipy import stats
from skimage.feature import hog as skimage_hog
from skimage.metrics import structural_similarity

from common.metrics.comparison import (
    COMPARISONS,
    auc_judd,
    hog,
    hog_pcc,
    kl,
    nss,
    pcc,
    sim,
    spearman,
    ssim,
)

MATLAB_EPS = 2.2e-16


# --------------------------------------------------------------------------- references
def ref_sim(a, b):
    def normalise(m):
        m = (m - m.min()) / (m.max() - m.min())
        return m / m.sum()
    return np.minimum(normalise(a), normalise(b)).sum()


def ref_kl(saliency, reference):
    p, q = saliency / saliency.sum(), reference / reference.sum()
    return np.sum(q * np.log(MATLAB_EPS + q / (p + MATLAB_EPS)))


def ref_nss(saliency, fixations):
    z = (saliency - saliency.mean()) / saliency.std(ddof=1)
    return z[fixations > 0].mean()


def ref_auc_judd_matlab(saliency, fixations, jitter=None):
    """AUC_Judd.m line by line (TPR = i / Nfixations), optionally with its random jitter."""
    if jitter is not None:
        saliency = saliency + jitter.random(saliency.shape) / 10000000
    s = ((saliency - saliency.min()) / (saliency.max() - saliency.min())).ravel()
    f = fixations.ravel()
    thresholds = np.sort(s[f > 0])[::-1]
    n_fix, n_pix = len(thresholds), len(s)
    tp, fp = np.zeros(n_fix + 2), np.zeros(n_fix + 2)
    tp[-1] = fp[-1] = 1
    for i, t in enumerate(thresholds, start=1):
        above = np.sum(s >= t)
        tp[i] = i / n_fix
        fp[i] = (above - i) / (n_pix - n_fix)
    return np.trapezoid(tp, fp)


def minmax(m):
    return (m - m.min()) / (m.max() - m.min())


def ref_ssim(a, b):
    return structural_similarity(minmax(a), minmax(b), data_range=1.0)


def ref_hog_pcc(a, b):
    return np.corrcoef(skimage_hog(minmax(a)), skimage_hog(minmax(b)))[0, 1]


def blocky(rng, shape, levels=3, block=4):
    """Piecewise-constant map: axis-aligned edges, gradients at 0/90/180 degrees, many ties."""
    coarse = rng.integers(0, levels, (shape[0] // block + 1, shape[1] // block + 1))
    return np.kron(coarse, np.ones((block, block)))[: shape[0], : shape[1]].astype(float)


@pytest.fixture
def maps():
    """Random float64 maps (B, H, W), a second batch, and binary fixation maps."""
    rng = np.random.default_rng(0)
    a = rng.random((4, 33, 40)) ** 2
    b = 0.5 * a + rng.random((4, 33, 40))
    fixations = (rng.random((4, 33, 40)) < 0.05).astype(float)
    return a, b, fixations


def scores(function, a, b):
    return function(torch.from_numpy(a), torch.from_numpy(b)).numpy()


# --------------------------------------------------------------------------- agreement
def test_pcc_and_spearman_match_scipy(maps):
    a, b, _ = maps
    np.testing.assert_allclose(scores(pcc, a, b), [stats.pearsonr(x.ravel(), y.ravel())[0]
                                                   for x, y in zip(a, b, strict=True)], atol=1e-12)
    tied_a, tied_b = np.round(a * 4), np.round(b * 3)  # few distinct values: many ties
    for x, y in ((a, b), (tied_a, tied_b)):
        expected = [stats.spearmanr(u.ravel(), v.ravel())[0] for u, v in zip(x, y, strict=True)]
        np.testing.assert_allclose(scores(spearman, x, y), expected, atol=1e-12)


def test_sim_kl_nss_match_the_mit_benchmark_definitions(maps):
    a, b, fixations = maps
    pairs = list(zip(a, b, fixations, strict=True))
    np.testing.assert_allclose(scores(sim, a, b), [ref_sim(x, y) for x, y, _ in pairs], atol=1e-12)
    np.testing.assert_allclose(scores(kl, a, b), [ref_kl(x, y) for x, y, _ in pairs], rtol=1e-10)
    sparse = a * (a > 0.5)  # zeros in the saliency map: the epsilon matters
    np.testing.assert_allclose(scores(kl, sparse, fixations),
                               [ref_kl(x, f) for x, f in zip(sparse, fixations, strict=True)],
                               rtol=1e-10)
    np.testing.assert_allclose(scores(nss, a, fixations),
                               [ref_nss(x, f) for x, _, f in pairs], atol=1e-12)


def test_auc_judd_matches_the_matlab_code_without_ties(maps):
    a, _, fixations = maps
    expected = [ref_auc_judd_matlab(x, f) for x, f in zip(a, fixations, strict=True)]
    np.testing.assert_allclose(scores(auc_judd, a, fixations), expected, atol=1e-12)


def test_auc_judd_with_ties_is_the_expectation_of_the_jittered_matlab_code():
    rng = np.random.default_rng(1)
    saliency = np.round(rng.random((2, 12, 12)) * 3)  # four levels: ties everywhere
    fixations = (rng.random((2, 12, 12)) < 0.15).astype(float)
    ours = scores(auc_judd, saliency, fixations)
    jitter = np.random.default_rng(2)
    draws = np.array([[ref_auc_judd_matlab(s, f, jitter) for _ in range(400)]
                      for s, f in zip(saliency, fixations, strict=True)])
    error = 4 * draws.std(1) / np.sqrt(draws.shape[1]) + 1e-6  # 4 standard errors
    assert np.all(np.abs(ours - draws.mean(1)) < error), (ours, draws.mean(1), error)


def test_ssim_matches_skimage(maps):
    a, b, _ = maps
    expected = [ref_ssim(x, y) for x, y in zip(a, b, strict=True)]
    np.testing.assert_allclose(scores(ssim, a, b), expected, atol=1e-10)


@pytest.mark.parametrize("shape", [(24, 24), (33, 40), (50, 41)])
def test_hog_matches_skimage(shape):
    rng = np.random.default_rng(3)
    images = np.stack([rng.random(shape), blocky(rng, shape), blocky(rng, shape, block=3)])
    ours = hog(torch.from_numpy(images)).numpy()
    expected = np.stack([skimage_hog(image) for image in images])
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, atol=1e-6)  # skimage sums cells in float32
    options = dict(orientations=7, pixels_per_cell=(5, 6), cells_per_block=(2, 3), block_norm="L1")
    np.testing.assert_allclose(hog(torch.from_numpy(images), **options).numpy(),
                               np.stack([skimage_hog(image, **options) for image in images]),
                               atol=1e-6)


def test_hog_pcc_matches_skimage_and_corrcoef(maps):
    a, b, _ = maps
    rng = np.random.default_rng(4)
    a, b = np.concatenate([a, [blocky(rng, a.shape[1:])]]), np.concatenate([b, [a[0]]])
    expected = [ref_hog_pcc(x, y) for x, y in zip(a, b, strict=True)]
    np.testing.assert_allclose(scores(hog_pcc, a, b), expected, atol=1e-6)


# --------------------------------------------------------------------------- known answers
def test_identical_maps_and_negation(maps):
    a, _, _ = maps
    x = torch.from_numpy(a)
    for function, value in ((pcc, 1), (sim, 1), (kl, 0), (ssim, 1), (spearman, 1), (hog_pcc, 1)):
        np.testing.assert_allclose(function(x, x).numpy(), value, atol=1e-12, err_msg=function)
    np.testing.assert_allclose(pcc(x, -x).numpy(), -1, atol=1e-12)
    np.testing.assert_allclose(spearman(x, -x).numpy(), -1, atol=1e-12)


def test_auc_judd_of_the_fixation_map_itself_is_one(maps):
    _, _, fixations = maps
    f = torch.from_numpy(fixations)
    np.testing.assert_allclose(auc_judd(f, f).numpy(), 1, atol=1e-12)
    # the reverse ranks every fixation below every other pixel: only the segment from
    # (0, 0) to (1, 1 / N_f) has area, as with the jittered MATLAB code
    np.testing.assert_allclose(auc_judd(-f, f).numpy(), 1 / (2 * fixations.sum((1, 2))),
                               atol=1e-12)


def test_constant_maps(maps):
    a, _, fixations = maps
    x, f = torch.from_numpy(a), torch.from_numpy(fixations)
    flat = torch.full_like(x, 0.3)
    for function in (pcc, spearman, hog_pcc):
        assert torch.isnan(function(x, flat)).all() and torch.isnan(function(flat, x)).all()
    assert torch.isnan(nss(flat, f)).all() and torch.isnan(auc_judd(flat, f)).all()
    assert torch.isnan(nss(x, torch.zeros_like(f))).all()  # no fixations
    assert torch.isnan(auc_judd(x, torch.zeros_like(f))).all()
    n = x[0].numel()  # a constant map is uniform for SIM
    np.testing.assert_allclose(sim(flat, flat).numpy(), 1, atol=1e-12)
    uniform = np.full(a.shape[1:], 1.0 / n)
    expected = [np.minimum(uniform, minmax(m) / minmax(m).sum()).sum() for m in a]
    np.testing.assert_allclose(sim(flat, x).numpy(), expected, atol=1e-12)
    assert torch.isfinite(ssim(flat, x)).all()


def test_maps_constant_up_to_round_off_are_constant(maps):
    """A map whose values differ only in their last bits (an upsampled 1x1 Grad-CAM map
    computed with another thread count) has no correlation to measure: NaN, as for an exactly
    constant map, never a number decided by round-off. A small real spread still counts."""
    a, _, fixations = maps
    x, f = torch.from_numpy(a).float(), torch.from_numpy(fixations)
    flat = torch.full_like(x, 2.5)
    flat.view(len(x), -1)[:, ::7] = torch.nextafter(torch.tensor(2.5), torch.tensor(3.0))
    for function in (pcc, spearman):
        assert torch.isnan(function(x, flat)).all()
    assert torch.isnan(nss(flat, f)).all()
    varied = flat.clone()
    varied.view(len(x), -1)[:, ::7] = 2.5 + 1e-3
    assert torch.isfinite(pcc(x, varied)).all()


# --------------------------------------------------------------------------- shapes, batching
@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_batch_equals_one_by_one_and_shapes_agree(name, maps):
    function, _ = COMPARISONS[name]
    a, b, fixations = maps
    x = torch.from_numpy(a)
    y = torch.from_numpy(fixations if name in ("nss", "auc_judd") else b)
    batched = function(x, y)
    assert batched.shape == (len(a),) and batched.dtype == torch.float64
    single = torch.cat([function(x[i : i + 1], y[i : i + 1]) for i in range(len(a))])
    torch.testing.assert_close(batched, single, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(function(x.unsqueeze(1), y.unsqueeze(1)), batched)
    torch.testing.assert_close(function(x.unsqueeze(1), y), batched)
    in_float32 = function(x.float(), y.float())
    assert in_float32.dtype == torch.float32
    torch.testing.assert_close(in_float32.double(), batched, rtol=1e-4, atol=1e-4)


def test_registry_declares_directions():
    assert set(COMPARISONS) == {"pcc", "sim", "kl", "nss", "auc_judd", "ssim", "spearman",
                                "hog_pcc"}
    assert [name for name, (_, higher) in COMPARISONS.items() if not higher] == ["kl"]
    assert all(callable(function) and function.__doc__ for function, _ in COMPARISONS.values())


def test_bad_inputs_are_refused():
    x = torch.rand(2, 1, 32, 32)
    with pytest.raises(ValueError, match="3 channels"):
        pcc(torch.rand(2, 3, 32, 32), x)
    with pytest.raises(ValueError, match="differ"):
        sim(x, torch.rand(2, 1, 32, 31))
    with pytest.raises(ValueError, match="non-negative"):
        kl(x - 0.5, x)
    with pytest.raises(ValueError, match="too small"):
        hog_pcc(torch.rand(2, 16, 40), torch.rand(2, 16, 40))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_results_stay_on_the_device(maps):
    a, b, fixations = maps
    for name, (function, _) in COMPARISONS.items():
        second = fixations if name in ("nss", "auc_judd") else b
        on_gpu = function(torch.from_numpy(a).cuda(), torch.from_numpy(second).cuda())
        assert on_gpu.device.type == "cuda"
        expected = function(torch.from_numpy(a), torch.from_numpy(second))
        torch.testing.assert_close(on_gpu.cpu(), expected, rtol=1e-9, atol=1e-9)
        assert not math.isnan(on_gpu.sum().item())
