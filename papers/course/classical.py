"""Saliency before deep learning (course, part 1): where does a viewer look first?

Six bottom-up models, each a function of a batch of images (B, C, H, W) in
[0, 1] returning one map per image (B, H, W), larger meaning more salient:

- :func:`centre_surround`: S(x) = |I(x) - mean over a neighbourhood of I|;
- :func:`itti_koch`: Itti, Koch & Niebur (1998): Gaussian pyramids, centre-surround
  differences across scales for intensity, red-green and blue-yellow opponency and
  four Gabor orientations, the map normalisation operator N(.), conspicuity maps
  (for orientation, N of each orientation's across-scale sum) and their average;
- :func:`spectral_residual`: Hou & Zhang (2007), in ``torch.fft``;
- :func:`region_contrast`: Cheng et al. (2011)'s region contrast on SLIC superpixels
  (the slide's S(R_i) = sum_j w_ij ||mu_i - mu_j||): each region's L*a*b* colour-histogram
  distance to every other region, weighted by that region's pixel count and by
  exp(-D_s / sigma_s^2) of the distance between their centroids;
- :func:`tree_distance`: the slide's graph model: superpixels as nodes, colour
  distances as edges, saliency as the distance along the minimum spanning tree to
  the image border;
- :func:`local_entropy`: the entropy of the grey-level histogram in a disc.

None of them looks at a classifier: they are the baseline that the course's
saliency-in-XAI part starts from, scored against object masks like the others.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra, minimum_spanning_tree
from skimage.color import rgb2lab
from skimage.filters.rank import entropy
from skimage.morphology import disk, local_maxima
from skimage.segmentation import slic

# Itti et al.: centre levels c in {2, 3, 4}, surround levels s = c + delta, delta in {3, 4}.
ITTI_CENTRES = (2, 3, 4)
ITTI_DELTAS = (3, 4)
ORIENTATIONS_DEGREES = (0, 45, 90, 135)
# Hou & Zhang: the image is resized to 64 px, the log spectrum averaged over 3x3, and the
# saliency map smoothed by a Gaussian of sigma 8 (in pixels of the 64-px map).
SPECTRAL_SIZE = 64
SPECTRAL_AVERAGE = 3
SPECTRAL_SIGMA = 8.0
# Cheng et al.: each colour channel quantised to 12 levels, the most frequent colours kept until
# they cover 95 % of the pixels, and the spatial weight exp(-D_s / sigma_s^2) with sigma_s^2 = 0.4
# on pixel coordinates normalised to [0, 1]. Their code also keeps at least 10 colours (all, if
# fewer) and at most 256: without the floor, a small object's colour under 5 % of the pixels
# would be merged into the background's.
COLOUR_LEVELS = 12
COLOUR_COVERAGE = 0.95
COLOURS_KEPT = (10, 256)
SPATIAL_SIGMA_SQUARED = 0.4


def intensity(x: torch.Tensor) -> torch.Tensor:
    """The mean over colour channels, (B, 1, H, W)."""
    return x.mean(1, keepdim=True)


def separable_filter(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Filter each channel of (B, C, H, W) with ``kernel`` along rows then columns,
    reflecting at the border (the result keeps the size)."""
    channels, radius = x.shape[1], len(kernel) // 2
    kernel = kernel.to(x)
    rows = kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1)
    columns = kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1)
    mode = "reflect" if min(x.shape[-2:]) > radius else "replicate"
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode=mode), rows, groups=channels)
    return F.conv2d(F.pad(x, (0, 0, radius, radius), mode=mode), columns, groups=channels)


def centre_surround(x: torch.Tensor, surround: int = 7) -> torch.Tensor:
    """|I(x) - mean_{N(x)} I| per colour channel, then the Euclidean norm over channels;
    N(x) is the square of side 2 * ``surround`` + 1 around x."""
    box = torch.ones(2 * surround + 1) / (2 * surround + 1)
    return (x - separable_filter(x, box)).norm(dim=1)


def _rescale(x: torch.Tensor, size) -> torch.Tensor:
    """Bilinear resizing; low-pass filtered when it shrinks (antialias), so that reducing a map
    to a coarser level averages it instead of sampling every k-th pixel."""
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)


def gaussian_pyramid(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Level 0 is ``x``; each next level is blurred by the 5-tap binomial filter and
    subsampled by two (rounding up, so a level never vanishes)."""
    binomial = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16
    pyramid = [x]
    for _ in range(levels):
        blurred = separable_filter(pyramid[-1], binomial)
        pyramid.append(blurred[..., ::2, ::2])
    return pyramid


def across_scale_differences(pyramid: list[torch.Tensor]) -> list[torch.Tensor]:
    """|P(c) - P(s)| with the surround interpolated to the centre's size, for every (c, s)."""
    return [(pyramid[c] - _rescale(pyramid[c + delta], pyramid[c].shape[-2:])).abs()
            for c in ITTI_CENTRES for delta in ITTI_DELTAS]


def mean_of_other_maxima(maps: torch.Tensor) -> torch.Tensor:
    """Per map of (B, 1, H, W), the mean height of its local maxima other than the global one
    (0 where there is no other). A local maximum is a connected set of equal pixels whose
    neighbours (8-connected) are all lower, so a flat peak of several pixels counts once."""
    means = []
    for image in maps[:, 0].detach().cpu().double().numpy():
        peaks, count = ndimage.label(local_maxima(image, connectivity=2), np.ones((3, 3)))
        heights = np.asarray(ndimage.maximum(image, peaks, np.arange(1, count + 1)))
        means.append((heights.sum() - heights.max()) / (count - 1) if count > 1 else 0.0)
    return torch.tensor(means, dtype=maps.dtype, device=maps.device)


def normalise_map(maps: torch.Tensor, top: float = 1.0) -> torch.Tensor:
    """Itti's N(.) on each map of (B, 1, H, W): scale it to [0, top] (top is then its global
    maximum M), and multiply it by (M - mbar)^2, mbar the mean of its other local maxima, so
    that a map with one strong peak is promoted and a map with many comparable peaks is
    suppressed."""
    flat = maps.flatten(1)
    low, high = flat.amin(1).view(-1, 1, 1, 1), flat.amax(1).view(-1, 1, 1, 1)
    scaled = top * (maps - low) / (high - low).clamp(min=1e-12)
    return scaled * ((top - mean_of_other_maxima(scaled)) ** 2).view(-1, 1, 1, 1)


def conspicuity(feature_maps: list[torch.Tensor], size) -> torch.Tensor:
    """Itti's across-scale sum of N(.): each feature map normalised at its own scale, then
    reduced to ``size`` (level 4) and added point by point."""
    return sum(_rescale(normalise_map(maps), size) for maps in feature_maps)


def orientation_conspicuity(feature_maps: list[list[torch.Tensor]], size) -> torch.Tensor:
    """Itti's O-bar = sum over theta of N(across-scale sum of N(O(c, s, theta))): one list of
    feature maps per orientation, each orientation's sum normalised again before the four
    are added, so that an orientation whose maps agree on one location outweighs one whose
    maps peak in many places."""
    return sum(normalise_map(conspicuity(maps, size)) for maps in feature_maps)


def opponent_channels(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Itti's red-green and blue-yellow opponency, with r, g, b normalised by the intensity
    where it exceeds a tenth of its maximum (hue is undefined in the dark)."""
    level = intensity(x)
    bright = level > 0.1 * level.flatten(1).amax(1).view(-1, 1, 1, 1)
    r, g, b = (torch.where(bright, channel / level.clamp(min=1e-6), torch.zeros_like(channel))
               for channel in x.split(1, dim=1))
    red, green = (r - (g + b) / 2).clamp(min=0), (g - (r + b) / 2).clamp(min=0)
    blue = (b - (r + g) / 2).clamp(min=0)
    yellow = ((r + g) / 2 - (r - g).abs() / 2 - b).clamp(min=0)
    return red - green, blue - yellow


def gabor_kernels(size: int = 9, wavelength: float = 4.0, sigma: float = 2.0) -> torch.Tensor:
    """Even (cosine) Gabor filters at Itti's four orientations, zero mean, (4, 1, size, size)."""
    half = size // 2
    ys, xs = torch.meshgrid(torch.arange(-half, half + 1.0), torch.arange(-half, half + 1.0),
                            indexing="ij")
    kernels = []
    for degrees in ORIENTATIONS_DEGREES:
        theta = math.radians(degrees)
        along = xs * math.cos(theta) + ys * math.sin(theta)
        kernel = torch.exp(-(xs**2 + ys**2) / (2 * sigma**2)) * torch.cos(2 * math.pi * along
                                                                        / wavelength)
        kernels.append(kernel - kernel.mean())
    return torch.stack(kernels).unsqueeze(1)


def itti_koch(x: torch.Tensor) -> torch.Tensor:
    """Itti-Koch saliency: intensity, colour and orientation conspicuity maps, each the
    normalised sum of its centre-surround maps at level 4, averaged after normalisation
    and brought back to the input size. A grey image has no colour channel."""
    levels = max(ITTI_CENTRES) + max(ITTI_DELTAS)
    size = gaussian_pyramid(x[:, :1], max(ITTI_CENTRES))[-1].shape[-2:]
    grey = gaussian_pyramid(intensity(x), levels)
    channels = [conspicuity(across_scale_differences(grey), size)]
    if x.shape[1] == 3:
        opponents = [gaussian_pyramid(channel, levels) for channel in opponent_channels(x)]
        channels.append(conspicuity([difference for pyramid in opponents
                                     for difference in across_scale_differences(pyramid)], size))
    gabor = gabor_kernels().to(x)
    oriented = [F.conv2d(level, gabor, padding=gabor.shape[-1] // 2).abs() for level in grey]
    channels.append(orientation_conspicuity(
        [across_scale_differences([level[:, k:k + 1] for level in oriented])
         for k in range(len(ORIENTATIONS_DEGREES))], size))
    saliency = sum(normalise_map(channel) for channel in channels) / len(channels)
    return _rescale(saliency, x.shape[-2:])[:, 0]


def spectral_residual(x: torch.Tensor, size: int = SPECTRAL_SIZE,
                      average: int = SPECTRAL_AVERAGE, sigma: float = SPECTRAL_SIGMA
                      ) -> torch.Tensor:
    """Hou & Zhang: R = log A - h * log A, S = |F^-1(exp(R + i Phi))|^2, blurred.

    Computed on the intensity resized to ``size`` x ``size`` and brought back to the
    input size; the Gaussian blur is a circular convolution, as the map is periodic.
    """
    small = F.interpolate(intensity(x), size=(size, size), mode="bilinear", antialias=True,
                          align_corners=False)
    spectrum = torch.fft.fft2(small.double())
    log_amplitude = torch.log(spectrum.abs().clamp(min=1e-12))
    box = torch.ones(1, 1, average, average, dtype=torch.float64) / average**2
    smoothed = F.conv2d(F.pad(log_amplitude, (average // 2,) * 4, mode="replicate"), box)
    residual = log_amplitude - smoothed
    saliency = torch.fft.ifft2(torch.exp(residual + 1j * torch.angle(spectrum))).abs() ** 2
    blur = torch.fft.fft2(periodic_gaussian(size, sigma))
    saliency = torch.fft.ifft2(torch.fft.fft2(saliency) * blur).real
    return _rescale(saliency.float(), x.shape[-2:])[:, 0]


def periodic_gaussian(size: int, sigma: float) -> torch.Tensor:
    """A normalised 2-D Gaussian on the ``size`` x ``size`` torus, centred at (0, 0)."""
    offsets = torch.arange(size, dtype=torch.float64)
    distance = torch.minimum(offsets, size - offsets)
    profile = torch.exp(-distance**2 / (2 * sigma**2))
    kernel = profile.view(-1, 1) * profile.view(1, -1)
    return kernel / kernel.sum()


def slic_labels(image: np.ndarray, segments: int, compactness: float) -> np.ndarray:
    """SLIC superpixel labels (H, W), numbered from 0, of one (H, W, C) image."""
    return slic(image, n_segments=segments, compactness=compactness, start_label=0,
                channel_axis=-1)


def superpixels(image: np.ndarray, segments: int, compactness: float):
    """SLIC labels (H, W) of one (H, W, C) image, and each region's pixel count and mean colour."""
    labels = slic_labels(image, segments, compactness)
    count, flat = labels.max() + 1, labels.ravel()
    sizes = np.bincount(flat, minlength=count).astype(float)
    colours = np.stack([np.bincount(flat, channel.ravel(), count)
                        for channel in np.moveaxis(image, -1, 0)], 1) / sizes[:, None]
    return labels, sizes, colours


def quantised_colours(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cheng et al.'s colour quantisation of one (H, W, 3) RGB image in [0, 1]: each pixel's
    colour index (H, W) and each colour's L*a*b* value (K, 3).

    Each channel is quantised to 12 levels; the most frequent colours are kept until they
    cover 95 % of the pixels (at least 10, at most 256) and every other colour is replaced by
    the nearest kept one in the 12-level grid; a colour's value is the mean RGB of its pixels
    in L*a*b* (as the authors' code does).
    """
    grid = np.floor(image.clip(0, 1) * (COLOUR_LEVELS - 1e-4)).astype(int)
    shape = (COLOUR_LEVELS,) * 3
    codes, inverse, counts = np.unique(np.ravel_multi_index(np.moveaxis(grid, -1, 0), shape),
                                       return_inverse=True, return_counts=True)
    by_frequency = np.argsort(-counts, kind="stable")
    covered = np.cumsum(counts[by_frequency]) >= COLOUR_COVERAGE * counts.sum()
    fewest, most = COLOURS_KEPT
    kept = by_frequency[:min(max(int(covered.argmax()) + 1, fewest), most)]
    cells = np.stack(np.unravel_index(codes, shape), 1)
    nearest = ((cells[:, None] - cells[None, kept]) ** 2).sum(-1).argmin(1)
    index = nearest[inverse.ravel()]
    rgb = np.stack([np.bincount(index, channel.ravel(), len(kept))
                    for channel in np.moveaxis(image, -1, 0)], 1)
    rgb /= np.bincount(index, minlength=len(kept))[:, None]
    return index.reshape(image.shape[:2]), rgb2lab(rgb[None])[0]


def region_contrast_scores(image: np.ndarray, labels: np.ndarray,
                           spatial_distance: str = "euclidean") -> np.ndarray:
    """Cheng et al.'s region contrast of each region of ``labels`` (H, W) in one (H, W, 3) image:
    S(r_k) = sum_{i != k} exp(-D_s(r_k, r_i) / sigma_s^2) w(r_i) D_r(r_k, r_i).

    w(r_i) is the region's pixel count; D_r(r_k, r_i) = sum_m sum_n f_k(c_m) f_i(c_n) D(c_m, c_n)
    over the regions' quantised colour histograms f, D the L*a*b* distance; D_s is the distance
    between the centroids, with rows and columns divided by the image's height and width
    (the authors' code). ``spatial_distance`` "euclidean" is the paper's text, D_s; "squared"
    is the authors' code, which puts D_s^2 in the exponent.
    """
    if spatial_distance not in ("euclidean", "squared"):
        raise ValueError(f"spatial_distance is 'euclidean' or 'squared', not {spatial_distance!r}")
    colour_index, palette = quantised_colours(image)
    count, flat = labels.max() + 1, labels.ravel()
    sizes = np.bincount(flat, minlength=count).astype(float)
    histograms = np.zeros((count, len(palette)))
    np.add.at(histograms, (flat, colour_index.ravel()), 1.0)
    histograms /= sizes[:, None]
    colour_distance = np.linalg.norm(palette[:, None] - palette[None], axis=-1)
    region_distance = histograms @ colour_distance @ histograms.T
    rows, columns = np.indices(labels.shape) / np.reshape(labels.shape, (2, 1, 1))
    centroids = np.stack([np.bincount(flat, rows.ravel(), count),
                          np.bincount(flat, columns.ravel(), count)], 1) / sizes[:, None]
    spatial = np.linalg.norm(centroids[:, None] - centroids[None], axis=-1)
    if spatial_distance == "squared":
        spatial = spatial**2
    weights = sizes[None] * np.exp(-spatial / SPATIAL_SIGMA_SQUARED)
    np.fill_diagonal(weights, 0.0)
    return (weights * region_distance).sum(1)


def region_contrast(x: torch.Tensor, segments: int = 60, compactness: float = 10.0,
                    spatial_distance: str = "euclidean") -> torch.Tensor:
    """Cheng et al.'s region-contrast saliency on SLIC superpixels (in place of their graph-based
    segmentation, as on the slide), each pixel scored by its region; a grey image is taken as
    an RGB image with three equal channels."""
    images = x.expand(-1, 3, -1, -1).permute(0, 2, 3, 1).double().cpu().numpy()
    maps = []
    for image in images:
        labels = slic_labels(image, segments, compactness)
        maps.append(region_contrast_scores(image, labels, spatial_distance)[labels])
    return torch.from_numpy(np.stack(maps)).float().to(x.device)


def _tree_saliency(image: np.ndarray, segments: int, compactness: float) -> np.ndarray:
    """MST saliency of one (H, W, C) image: the graph of adjacent SLIC regions weighted by
    their colour distance, its minimum spanning tree, and each region's path length along
    the tree to the nearest region on the image border (the background prior)."""
    labels, _, colours = superpixels(image, segments, compactness)
    neighbours = np.concatenate([
        np.stack([labels[:, :-1].ravel(), labels[:, 1:].ravel()], 1),
        np.stack([labels[:-1].ravel(), labels[1:].ravel()], 1)])
    neighbours = np.unique(np.sort(neighbours[neighbours[:, 0] != neighbours[:, 1]], 1), axis=0)
    # a tiny floor keeps edges between identical colours in the sparse graph
    weights = np.linalg.norm(colours[neighbours[:, 0]] - colours[neighbours[:, 1]], axis=1)
    graph = coo_matrix((weights + 1e-9, (neighbours[:, 0], neighbours[:, 1])),
                       shape=(len(colours),) * 2)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    distance = dijkstra(minimum_spanning_tree(graph), directed=False, indices=border,
                        min_only=True)
    return distance[labels]


def tree_distance(x: torch.Tensor, segments: int = 60, compactness: float = 10.0) -> torch.Tensor:
    """Graph-based saliency on a minimum spanning tree of superpixels (the slides' graph
    model, after Tu et al. 2016): how far, in colour, a region is from the border."""
    images = x.permute(0, 2, 3, 1).double().cpu().numpy()
    maps = [_tree_saliency(image, segments, compactness) for image in images]
    return torch.from_numpy(np.stack(maps)).float().to(x.device)


def local_entropy(x: torch.Tensor, radius: int = 4) -> torch.Tensor:
    """H(x) = -sum_i p_i log2 p_i of the 8-bit grey levels in a disc of ``radius`` around x."""
    grey = (intensity(x)[:, 0].clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
    maps = [entropy(image, disk(radius)) for image in grey]
    return torch.from_numpy(np.stack(maps)).float().to(x.device)


CLASSICAL_MAPS = {
    "centre-surround": centre_surround,
    "Itti-Koch": itti_koch,
    "spectral residual": spectral_residual,
    "region contrast": region_contrast,
    "MST distance": tree_distance,
    "local entropy": local_entropy,
}
"""The course's bottom-up saliency models by display name."""

CODE_READINGS = {
    "region contrast, D_s squared (authors' code)":
        partial(region_contrast, spatial_distance="squared"),
}
"""Where a paper's text and its authors' code differ, the code's reading by display name:
scored beside the paper's reading in the localisation table."""
