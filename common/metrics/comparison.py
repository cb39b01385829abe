"""Saliency-map comparison metrics, batched in torch on the maps' device.

Two uses in this project (shared/papers/NOTES.md, "survey.txt"):

* agreement of an explanation with human gaze (the survey's Table 1 reports
  PCC and SIM against fixation density maps; KL, NSS and AUC-Judd are the
  other standard scores of the MIT/Tuebingen saliency benchmark, Bylinskii et
  al., "What do different evaluation metrics tell us about saliency models?",
  TPAMI 2019, whose MATLAB code the definitions here follow);
* similarity of two explanations in the sanity checks of Adebayo et al.
  (NeurIPS 2018): SSIM, Spearman rank correlation and the Pearson correlation
  of HOG features, with the scikit-image definitions those checks used.

Every function takes two stacks of single-channel maps, (B, 1, H, W) or
(B, H, W), and returns a (B,) tensor of per-image scores on the first map's
device (the second is moved there). Computation is in float64 when either
input is float64, else float32. ``COMPARISONS`` at the bottom maps each name
to ``(function, higher_is_better)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: MATLAB's ``eps`` (2^-52 rounded), as used by the MIT benchmark's KLdiv.m.
KL_EPS = 2.2e-16


# --------------------------------------------------------------------------- helpers
def _single_channel(x: torch.Tensor, name: str) -> torch.Tensor:
    """(B, H, W) view of a (B, 1, H, W) or (B, H, W) stack of maps."""
    if x.dim() == 4:
        if x.shape[1] != 1:
            raise ValueError(f"{name} has {x.shape[1]} channels, shape {tuple(x.shape)}: "
                             f"comparison metrics take single-channel maps (B, 1, H, W) or "
                             f"(B, H, W); reduce the channels first (e.g. sum or max)")
        return x[:, 0]
    if x.dim() != 3:
        raise ValueError(f"{name} must be (B, 1, H, W) or (B, H, W), got {tuple(x.shape)}")
    return x


def _pair(a: torch.Tensor, b: torch.Tensor, names=("a", "b")):
    """Both maps as (B, H, W) in a common float dtype on ``a``'s device."""
    a, b = _single_channel(a, names[0]), _single_channel(b, names[1])
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} {tuple(a.shape)} and {names[1]} {tuple(b.shape)} differ")
    dtype = torch.promote_types(a.dtype, b.dtype)
    dtype = torch.float64 if dtype == torch.float64 else torch.float32
    return a.to(dtype), b.to(device=a.device, dtype=dtype)


#: A map whose values spread over no more than this many single-precision units in the
#: last place of its largest magnitude is constant: what varies is the round-off of the
#: float32 models that made it, which the thread count or the device decides (an upsampled
#: 1x1 Grad-CAM map, say), so any correlation with it is noise.
CONSTANT_ULPS = 16


def _constant(x: torch.Tensor) -> torch.Tensor:
    """(B,) True where an image's values are equal up to round-off (:data:`CONSTANT_ULPS`),
    tested on the range, not via the variance."""
    flat = x.flatten(1)
    spread = flat.amax(1) - flat.amin(1)
    return spread <= CONSTANT_ULPS * torch.finfo(torch.float32).eps * flat.abs().amax(1)


def _nan_where(mask: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    return torch.where(mask, torch.full_like(scores, float("nan")), scores)


def _minmax(x: torch.Tensor) -> torch.Tensor:
    """Per-image (x - min) / (max - min); a constant image becomes all zeros."""
    flat = x.flatten(1)
    low, high = flat.amin(1, keepdim=True), flat.amax(1, keepdim=True)
    span = torch.where(high > low, high - low, torch.ones_like(high))
    return ((flat - low) / span).view_as(x)


def _to_distribution(x: torch.Tensor) -> torch.Tensor:
    """(B, N) rows divided by their sum; an all-zero row is left as zeros."""
    total = x.sum(1, keepdim=True)
    return torch.where(total != 0, x / torch.where(total != 0, total, 1), x)


def _zscore(x: torch.Tensor, correction: int = 0) -> torch.Tensor:
    """(B, N) rows standardised to mean 0, std 1 (``correction`` = ddof)."""
    std, mean = torch.std_mean(x, dim=1, keepdim=True, correction=correction)
    return (x - mean) / std


def _pearson(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-row Pearson correlation of (B, N) tensors; NaN where either row is constant."""
    r = (_zscore(x) * _zscore(y)).mean(1).clamp(-1, 1)
    return _nan_where(_constant(x) | _constant(y), r)


def _average_ranks(x: torch.Tensor) -> torch.Tensor:
    """Per-row ranks 1..N of (B, N), ties given their average rank (scipy's 'average')."""
    ordered = x.sort(1).values
    below = torch.searchsorted(ordered, x.contiguous(), right=False)
    up_to = torch.searchsorted(ordered, x.contiguous(), right=True)
    return (below + up_to + 1).to(x.dtype) / 2


# --------------------------------------------------------------------------- metrics
def pcc(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson's linear correlation coefficient (CC) of the two maps, in [-1, 1].

    Both maps are z-scored per image and the mean of their product taken, as in
    the MIT saliency benchmark's CC.m and the survey's Table 1 (gaze agreement).
    NaN where either map is constant: the correlation is undefined there, and a
    silent 0 would read as "uncorrelated".
    """
    x, y = _pair(a, b)
    return _pearson(x.flatten(1), y.flatten(1))


def sim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Similarity (histogram intersection) sum(min(P, Q)), in [0, 1], 1 for identical maps.

    P and Q are the maps each min-max normalised to [0, 1] and then divided by
    their sum (MIT saliency benchmark, similarity.m; the survey's Table 1). A
    constant map, which the benchmark turns into NaN, becomes uniform here.
    """
    x, y = _pair(a, b)
    n = x[0].numel()
    p, q = (_minmax(m).flatten(1) for m in (x, y))
    p, q = (torch.where(d.sum(1, keepdim=True) > 0, _to_distribution(d), 1.0 / n) for d in (p, q))
    return torch.minimum(p, q).sum(1)


def kl(saliency: torch.Tensor, reference: torch.Tensor, eps: float = KL_EPS) -> torch.Tensor:
    """KL divergence KL(Q || P) of a reference (e.g. fixation density) Q from a saliency map P.

    Exactly the MIT saliency benchmark's KLdiv.m: P and Q are the maps divided
    by their sums (an all-zero map is left as zeros), then

        KL = sum_i Q_i * log(eps + Q_i / (P_i + eps)),   eps = 2.2e-16,

    which is 0 for identical maps and grows where P misses mass that Q has.
    Lower is better. The maps must be non-negative (densities), else ValueError.
    """
    p, q = _pair(saliency, reference, ("saliency", "reference"))
    if bool((p < 0).any() | (q < 0).any()):
        raise ValueError("kl needs non-negative maps (densities); rectify or min-max them first")
    p, q = _to_distribution(p.flatten(1)), _to_distribution(q.flatten(1))
    return (q * torch.log(eps + q / (p + eps))).sum(1)


def nss(saliency: torch.Tensor, fixations: torch.Tensor) -> torch.Tensor:
    """Normalised scanpath saliency: mean of the z-scored saliency map at the fixated pixels.

    MIT saliency benchmark, NSS.m (Peters et al. 2005): the map is standardised
    with MATLAB's ``std`` (sample std, ddof=1); a pixel is fixated where
    ``fixations > 0``. 0 is chance level, higher is better. NaN for a constant
    saliency map or an image without fixations.
    """
    s, f = _pair(saliency, fixations, ("saliency", "fixations"))
    s, fixated = s.flatten(1), f.flatten(1) > 0
    z = _zscore(s, correction=1)
    scores = (z * fixated).sum(1) / fixated.sum(1)
    return _nan_where(_constant(s), scores)


def auc_judd(saliency: torch.Tensor, fixations: torch.Tensor) -> torch.Tensor:
    """AUC-Judd: area under the ROC curve of the saliency map as a classifier of fixated pixels.

    MIT saliency benchmark, AUC_Judd.m (Judd et al. 2009), vectorised over the
    batch. The map is min-max normalised; the thresholds t_i are its values at
    the N_f fixated pixels (``fixations > 0``) in decreasing order; out of N
    pixels, the i-th point of the ROC curve is

        TPR_i = i / N_f,
        FPR_i = (#{non-fixated > t_i} + j_i * m_i / (k_i + 1)) / (N - N_f),

    where k_i fixated and m_i non-fixated pixels share the value t_i and i is
    the j_i-th of those k_i fixations. The score is the trapezoid area of the
    curve with (0, 0) and (1, 1) added. On maps without ties (m_i = 0, k_i = 1)
    this is exactly the MATLAB code. With ties the MATLAB code adds random
    jitter (rand / 1e7) to the map; the tie term above is the expected number
    of tied non-fixated pixels that the jitter ranks before that fixation, and
    the area is linear in the FPRs, so this deterministic score is the jittered
    score's expectation (for values more than the jitter apart). A saliency map
    equal to the fixation map scores 1.
    NaN for a constant map, no fixations, or every pixel fixated. 0.5 is
    chance, higher is better.
    """
    s, f = _pair(saliency, fixations, ("saliency", "fixations"))
    s, fixated = _minmax(s).flatten(1), f.flatten(1) > 0
    n, n_fix = s.shape[1], fixated.sum(1, keepdim=True).to(s.dtype)
    fixated_values = torch.where(fixated, s, float("-inf")).sort(1).values
    thresholds = fixated_values.flip(1)  # the first n_fix are the fixated values, decreasing

    def above(ascending: torch.Tensor, equal: bool) -> torch.Tensor:
        """Per threshold, how many of ``ascending`` are > it (or >= it when ``equal``)."""
        return n - torch.searchsorted(ascending, thresholds, right=not equal).to(s.dtype)

    everything = s.sort(1).values
    fix_above, fix_tied = above(fixated_values, False), above(fixated_values, True)
    other_above = above(everything, False) - fix_above
    other_tied = above(everything, True) - fix_tied - other_above
    fix_tied = fix_tied - fix_above
    i = torch.arange(1, n + 1, dtype=s.dtype, device=s.device).expand_as(thresholds)
    used = i <= n_fix
    tpr = torch.where(used, i / n_fix, 1.0)
    false_alarms = other_above + (i - fix_above) * other_tied / (fix_tied + 1)
    fpr = torch.where(used, false_alarms / (n - n_fix), 1.0)
    zero, one = torch.zeros_like(tpr[:, :1]), torch.ones_like(tpr[:, :1])
    tpr, fpr = torch.cat([zero, tpr, one], 1), torch.cat([zero, fpr, one], 1)
    area = ((fpr[:, 1:] - fpr[:, :-1]) * (tpr[:, 1:] + tpr[:, :-1]) / 2).sum(1)
    return _nan_where(_constant(s) | (n_fix[:, 0] == 0), area)


def ssim(a: torch.Tensor, b: torch.Tensor, win_size: int = 7,
         k1: float = 0.01, k2: float = 0.03) -> torch.Tensor:
    """Mean structural similarity (Wang et al. 2004) of the two maps min-max normalised to [0, 1].

    The definition of ``skimage.metrics.structural_similarity(a, b,
    data_range=1.0)`` that the sanity checks of Adebayo et al. use: uniform
    ``win_size`` x ``win_size`` window, sample (co)variances (ddof=1), C1 =
    (k1 * 1)^2, C2 = (k2 * 1)^2, averaged over the windows that lie fully inside
    the image (skimage crops a border of (win_size - 1) // 2). 1 for identical
    maps. A constant map is all zeros after normalisation (no NaN).
    """
    x, y = _pair(a, b)
    if min(x.shape[-2:]) < win_size:
        raise ValueError(f"maps {tuple(x.shape[-2:])} are smaller than the {win_size}-pixel window")
    x, y = _minmax(x), _minmax(y)
    stack = torch.stack([x, y, x * x, y * y, x * y], 1)
    ux, uy, uxx, uyy, uxy = F.avg_pool2d(stack, win_size, stride=1).unbind(1)
    cov_norm = win_size**2 / (win_size**2 - 1)
    vx, vy, vxy = (cov_norm * (m2 - m * n) for m2, m, n in
                   ((uxx, ux, ux), (uyy, uy, uy), (uxy, ux, uy)))
    c1, c2 = k1**2, k2**2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    return s.flatten(1).mean(1)


def spearman(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Spearman rank correlation of the flattened maps (Adebayo et al.'s sanity checks).

    Pearson correlation of the pixel ranks, ties given their average rank, as
    ``scipy.stats.spearmanr``. Invariant to any increasing transform of either
    map. NaN where either map is constant.
    """
    x, y = _pair(a, b)
    ranked = _pearson(_average_ranks(x.flatten(1)), _average_ranks(y.flatten(1)))
    return _nan_where(_constant(x) | _constant(y), ranked)  # ranks would magnify round-off


def _normalise_blocks(blocks: torch.Tensor, method: str, eps: float = 1e-5) -> torch.Tensor:
    """skimage's ``_hog_normalize_block`` over the last dimension."""
    if method in ("L1", "L1-sqrt"):
        out = blocks / (blocks.abs().sum(-1, keepdim=True) + eps)
        return out.sqrt() if method == "L1-sqrt" else out
    if method not in ("L2", "L2-Hys"):
        raise ValueError(f"block_norm must be 'L1', 'L1-sqrt', 'L2' or 'L2-Hys', got {method!r}")
    out = blocks / torch.sqrt((blocks**2).sum(-1, keepdim=True) + eps**2)
    if method == "L2-Hys":
        out = out.clamp(max=0.2)
        out = out / torch.sqrt((out**2).sum(-1, keepdim=True) + eps**2)
    return out


def hog(images: torch.Tensor, orientations: int = 9, pixels_per_cell=(8, 8),
        cells_per_block=(3, 3), block_norm: str = "L2-Hys") -> torch.Tensor:
    """Histogram of oriented gradients (Dalal & Triggs 2005) of (B, H, W) images, (B, features).

    Batched re-implementation of ``skimage.feature.hog(image, ...,
    feature_vector=True)`` for grayscale images: central-difference gradients
    (zero on the first and last row/column), unsigned orientation
    ``rad2deg(atan2(g_row, g_col)) % 180`` in ``orientations`` equal bins of
    [0, 180) without interpolation, each cell's histogram of gradient
    magnitudes divided by the cell's pixel count (pixels beyond the last whole
    cell are ignored), then overlapping blocks normalised with ``block_norm``,
    flattened in skimage's (block row, block col, cell row, cell col,
    orientation) order. Computed in float64 (float32 on MPS), as skimage bins
    float64 angles: in float32 an angle of exactly 180 degrees (a gradient
    pointing in -x) can round to 179.99999 and change bin.
    """
    work = torch.float32 if images.device.type == "mps" else torch.float64
    x = images.to(work)
    g_row, g_col = torch.zeros_like(x), torch.zeros_like(x)
    g_row[:, 1:-1, :] = x[:, 2:, :] - x[:, :-2, :]
    g_col[:, :, 1:-1] = x[:, :, 2:] - x[:, :, :-2]
    magnitude = torch.hypot(g_col, g_row)
    angle = torch.remainder(torch.rad2deg(torch.atan2(g_row, g_col)), 180)
    edges = torch.arange(1, orientations + 1, dtype=work, device=x.device) * (180 / orientations)
    bins = torch.bucketize(angle, edges, right=True)  # == orientations: outside [0, 180)

    (c_row, c_col), (b_row, b_col) = pixels_per_cell, cells_per_block
    n_row, n_col = x.shape[1] // c_row, x.shape[2] // c_col
    if n_row < b_row or n_col < b_col:
        raise ValueError(f"images {tuple(x.shape[1:])} are too small for {cells_per_block} "
                         f"blocks of {pixels_per_cell}-pixel cells: need at least "
                         f"{b_row * c_row} rows and {b_col * c_col} columns")
    magnitude = magnitude[:, :n_row * c_row, :n_col * c_col]
    bins = bins[:, :n_row * c_row, :n_col * c_col]
    cells = torch.stack([(magnitude * (bins == o)).view(-1, n_row, c_row, n_col, c_col).sum((2, 4))
                         for o in range(orientations)], -1) / (c_row * c_col)
    blocks = cells.unfold(1, b_row, 1).unfold(2, b_col, 1)  # (B, nbr, nbc, O, b_row, b_col)
    blocks = blocks.permute(0, 1, 2, 4, 5, 3).flatten(3)
    return _normalise_blocks(blocks, block_norm).flatten(1)


def hog_pcc(a: torch.Tensor, b: torch.Tensor, orientations: int = 9, pixels_per_cell=(8, 8),
            cells_per_block=(3, 3), block_norm: str = "L2-Hys") -> torch.Tensor:
    """Pearson correlation of the HOG features of the two maps, each min-max normalised.

    The structural comparison of Adebayo et al.'s sanity checks, which used
    ``skimage.feature.hog`` with its defaults (the keyword parameters here);
    :func:`hog` reproduces it in batched torch. Maps must be at least one block
    (24 x 24 pixels by default). NaN where either feature vector is constant
    (e.g. a constant map, which has no gradient).
    """
    x, y = _pair(a, b)
    params = dict(orientations=orientations, pixels_per_cell=pixels_per_cell,
                  cells_per_block=cells_per_block, block_norm=block_norm)
    features = [hog(_minmax(m), **params) for m in (x, y)]
    return _pearson(*features).to(x.dtype)


#: name -> (function, higher_is_better), for the metrics registry.
COMPARISONS = {
    "pcc": (pcc, True),
    "sim": (sim, True),
    "kl": (kl, False),
    "nss": (nss, True),
    "auc_judd": (auc_judd, True),
    "ssim": (ssim, True),
    "spearman": (spearman, True),
    "hog_pcc": (hog_pcc, True),
}
