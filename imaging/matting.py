"""Alpha matting of a cut-out's edge band: a trimap from the model's map, then colour-model alpha.

`matte` turns a coarse foreground probability (a segmentation model's map at
working resolution) into a full-resolution alpha:

1. a trimap: sure product and sure background where the map is confident,
   an unknown band where it is not, widened by a margin that scales with the
   photo (the band is as wide as the map is uncertain);
2. local colour models of the sure product (F) and sure background (B) next
   to each band pixel: their means and covariances, from normalised box
   filters at working resolution;
3. in the band, at full resolution, the alpha that best explains the pixel
   as a mix of F and B in the Mahalanobis metric of the two colour spreads.
   Texture is spread, so a background's grain or veins, which vary along
   their own colour directions, do not read as product (no whiskers);
4. where F and B are too alike for colour to decide (white on white, a glossy
   rim mirroring its surroundings) the map's own contour decides, sharpened
   to a photo edge: alpha follows the map's 0.5 level with a width of about
   one pixel, which is smooth (no stair-steps) because the map is.

The cost is a handful of box filters at half the working resolution plus a
few array operations per band pixel at full size, so it stays small next to
the model (u2netp). The same refinement runs on a slower model's map (ISNet);
nothing heavier is chosen for it yet.

Limits: colour cannot tell a glossy rim that mirrors its surroundings from
the surroundings (the contour decides there, so such a rim may come out a
little soft), and a part the model did not see at all (a thin temple or rung
with a map of 0) is not recovered: colour only moves edges near the map's
contour or where the map is faint.
"""

from __future__ import annotations

import cv2
import numpy as np

from imaging.array_ops import box, channels, disk, nonzero

_REMAP_ROW = 4096
_SURE_FG = 0.92  # map values at or above: product, unless colour says otherwise in the band
_SURE_BG = 0.08
_MARGIN = 1  # working pixels added on both sides of the uncertain zone
# Pixels at half the working resolution: a narrow window, and a wide one where the narrow one is empty.
_STAT_RADII = (2, 6)
_WIDE_SHARE = 0.1
_MIN_WEIGHT = 0.004  # weight of sure pixels in the windows below which there are no statistics
_NOISE = 0.012**2  # sensor and JPEG noise variance (0..1 units), added to every colour spread
_SPREAD_GAIN = 2.0  # texture is finer at full size than the working copy shows
_SEPARATION = 12.0  # Mahalanobis^2 separation of F and B at which colour and contour weigh the same
_EDGE_WIDTH = 1.2  # full-resolution pixels over which the contour prior goes from 0 to 1
_SLACK = 0.6  # working pixels: how far from the map's contour colour can move the edge
_COLOUR_GAIN = 2.0  # mixed pixels at a photo's edge are few: push colour answers off the middle


def matte(
    rgb: np.ndarray, small_f: np.ndarray, p: np.ndarray, *, loose: np.ndarray | None = None
) -> np.ndarray:
    """Full-resolution uint8 alpha of `rgb` from `p`, the foreground map at the size of `small_f`.

    `small_f` is the photo at working resolution as float32 RGB in [0, 1]. `loose` (same size
    as `p`, 0..1) marks where the map's contour is only a rough guess (the rim of a hole carved
    into it): there colour alone places the edge.
    """
    height, width = rgb.shape[:2]
    shape = p.shape
    scale = shape[1] / width  # working pixels per full pixel
    sure_fg = p >= _SURE_FG
    sure_bg = p <= _SURE_BG
    uncertain = ~(sure_fg | sure_bg)
    if loose is not None:
        uncertain |= loose > 0
    band_small = cv2.dilate(uncertain.astype(np.uint8), disk(_MARGIN))
    # A band pixel must not count as sure itself.
    fg_w = (sure_fg & (band_small == 0)).astype(np.float32)
    bg_w = (sure_bg & (band_small == 0)).astype(np.float32)

    # Colour statistics are smooth: they are gathered at half the working resolution (texture
    # finer than that is made up for by _SPREAD_GAIN).
    stat_size = (max(1, shape[1] // 2), max(1, shape[0] // 2))
    moments = _moments(cv2.resize(small_f, stat_size, interpolation=cv2.INTER_AREA))
    f_mean, f_cov, f_ok = _local_stats(moments, cv2.resize(fg_w, stat_size, interpolation=cv2.INTER_AREA))
    b_mean, b_cov, b_ok = _local_stats(moments, cv2.resize(bg_w, stat_size, interpolation=cv2.INTER_AREA))
    coef, offset, confidence = _mix_coefficients(f_mean, f_cov, b_mean, b_cov, f_ok & b_ok)
    mix = cv2.resize(
        cv2.merge((coef, offset, confidence)), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR
    )

    # The contour prior: signed distance to the map's 0.5 level in full pixels, from its gradient.
    gx = cv2.Sobel(p, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8)
    gy = cv2.Sobel(p, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8)
    slope = np.sqrt(gx * gx + gy * gy) * np.float32(scale)  # map change per full pixel
    np.maximum(slope, 1e-3, out=slope)

    # Colour may move the edge only near the map's contour, and hands over smoothly to the trimap
    # at the band's ends (no step where the band stops).
    ramp = np.minimum(1.0, cv2.distanceTransform(band_small, cv2.DIST_L2, 3) / np.float32(1.5))

    alpha = cv2.resize(
        sure_fg.astype(np.uint8) * np.uint8(255), (width, height), interpolation=cv2.INTER_NEAREST
    )
    band = cv2.resize(band_small, (width, height), interpolation=cv2.INTER_NEAREST)
    ys, xs = nonzero(band)
    if ys.size == 0:
        return alpha
    mix[..., 4] *= ramp
    small = cv2.merge((mix, p, slope, loose if loose is not None else np.zeros_like(p)))
    at = _sample(small, ys, xs, (height, width))
    colour = rgb[ys, xs].astype(np.float32) * np.float32(1 / 255)
    by_colour = np.einsum("nc,nc->n", at[:, :3], colour) + at[:, 3]
    by_colour = np.clip((by_colour - 0.5) * np.float32(_COLOUR_GAIN) + 0.5, 0.0, 1.0)
    distance = (at[:, 5] - 0.5) / at[:, 6]  # full pixels inside (+) or outside (-) the map's contour
    by_contour = np.clip(0.5 + distance / np.float32(_EDGE_WIDTH), 0.0, 1.0)
    slack = np.float32(_SLACK / scale)
    # A thin part (a strap, a temple) the map saw only faintly has no contour of its own: where the
    # map hovers in the middle, colour decides too.
    faint = 4 * at[:, 5] * (1 - at[:, 5])
    weight = at[:, 4] * np.maximum(np.maximum(np.exp(-((distance / slack) ** 2)), faint * faint), at[:, 7])
    a = weight * by_colour + (1 - weight) * by_contour
    alpha[ys, xs] = np.clip(a * 255 + 0.5, 0, 255).astype(np.uint8)
    return alpha


def _moments(image: np.ndarray) -> np.ndarray:
    """Per pixel (1, r, g, b, rr, rg, rb, gg, gb, bb): what local means and covariances are made of."""
    r, g, b = cv2.split(image)
    one = np.ones_like(r)
    return cv2.merge((one, r, g, b, r * r, r * g, r * b, g * g, g * b, b * b))


def _local_stats(moments: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted local mean (HxWx3), covariance (HxWx6: rr, rg, rb, gg, gb, bb) and where they are usable.

    The window is a narrow box plus a faint wide one: where the narrow one holds enough sure
    pixels it decides, elsewhere the wide one fills in, with no branching per pixel.
    """
    weighted = moments * weight[..., None]
    narrow, wide = _STAT_RADII
    sums = box(weighted, narrow) + np.float32(_WIDE_SHARE) * box(weighted, wide)
    total = sums[..., 0]
    ok = total >= _MIN_WEIGHT
    inv = 1.0 / np.maximum(total, 1e-6)
    stats = sums[..., 1:] * inv[..., None]
    mean = np.ascontiguousarray(stats[..., :3])
    m_r, m_g, m_b = cv2.split(mean)
    cov = stats[..., 3:] - cv2.merge((m_r * m_r, m_r * m_g, m_r * m_b, m_g * m_g, m_g * m_b, m_b * m_b))
    return mean, np.ascontiguousarray(cov), ok


def _mix_coefficients(
    f_mean: np.ndarray, f_cov: np.ndarray, b_mean: np.ndarray, b_cov: np.ndarray, ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel, alpha = coef . I + offset (the Mahalanobis projection onto F - B) and its confidence."""
    s = (f_cov + b_cov) * np.float32(_SPREAD_GAIN)
    s_rr, s_rg, s_rb, s_gg, s_gb, s_bb = cv2.split(s)
    s_rr += _NOISE
    s_gg += _NOISE
    s_bb += _NOISE
    i_rr = s_gg * s_bb - s_gb * s_gb
    i_rg = s_gb * s_rb - s_rg * s_bb
    i_rb = s_rg * s_gb - s_gg * s_rb
    i_gg = s_rr * s_bb - s_rb * s_rb
    i_gb = s_rb * s_rg - s_rr * s_gb
    i_bb = s_rr * s_gg - s_rg * s_rg
    det = s_rr * i_rr + s_rg * i_rg + s_rb * i_rb
    d_r, d_g, d_b = cv2.split(f_mean - b_mean)
    inv_det = 1.0 / np.maximum(det, 1e-12)
    u = cv2.merge(
        (
            (i_rr * d_r + i_rg * d_g + i_rb * d_b) * inv_det,
            (i_rg * d_r + i_gg * d_g + i_gb * d_b) * inv_det,
            (i_rb * d_r + i_gb * d_g + i_bb * d_b) * inv_det,
        )
    )
    separation = np.einsum("hwc,hwc->hw", u, f_mean - b_mean)
    np.maximum(separation, 1e-6, out=separation)
    coef = u / channels(separation)
    offset = -np.einsum("hwc,hwc->hw", coef, b_mean)
    confidence = separation / (separation + np.float32(_SEPARATION))
    confidence[~ok] = 0.0
    return coef, offset.astype(np.float32), confidence.astype(np.float32)


def _sample(values: np.ndarray, ys: np.ndarray, xs: np.ndarray, full: tuple[int, int]) -> np.ndarray:
    """Bilinear samples (N x C) of a working-resolution map at full-resolution pixel centres."""
    height, width = full
    count = ys.size
    rows = -(-count // _REMAP_ROW)
    map_x = np.zeros(rows * _REMAP_ROW, np.float32)
    map_y = np.zeros(rows * _REMAP_ROW, np.float32)
    map_x[:count] = (xs.astype(np.float32) + 0.5) * np.float32(values.shape[1] / width) - 0.5
    map_y[:count] = (ys.astype(np.float32) + 0.5) * np.float32(values.shape[0] / height) - 0.5
    channels = values.shape[2] if values.ndim == 3 else 1
    # remap handles at most 4 channels at once.
    parts = []
    for start in range(0, channels, 4):
        chunk = np.ascontiguousarray(values[..., start : start + 4]) if values.ndim == 3 else values
        out = cv2.remap(
            chunk,
            map_x.reshape(rows, _REMAP_ROW),
            map_y.reshape(rows, _REMAP_ROW),
            interpolation=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        parts.append(out.reshape(rows * _REMAP_ROW, -1)[:count])
    return np.concatenate(parts, axis=1)
