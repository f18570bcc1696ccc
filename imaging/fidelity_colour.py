"""Colour difference for the product fidelity check: sRGB -> CIELAB and CIEDE2000 in numpy, and the
lighting a faithful output may legitimately carry (the local engine's harmonisation).

`ciede2000` follows Sharma, Wu and Dalal (2005), "The CIEDE2000 colour-difference formula:
implementation notes", with kL = kC = kH = 1. `lighting_gains` fits the per-channel gains that
best explain the result's colours from the original's and clamps them to what lighting
harmonisation does (an exposure gain and a bounded tint), so only the change it cannot explain
is measured.
"""

from __future__ import annotations

import cv2
import numpy as np


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 (or Nx3) uint8 or float 0..1 sRGB -> float32 CIELAB (L 0..100, D65)."""
    values = np.asarray(rgb)
    if values.dtype == np.uint8:
        values = values.astype(np.float32) / 255.0
    flat = values.ndim == 2
    image = values[None] if flat else values
    lab = cv2.cvtColor(np.ascontiguousarray(image, np.float32), cv2.COLOR_RGB2Lab)
    return np.asarray(lab[0] if flat else lab)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """Per-pixel CIEDE2000 between two CIELAB arrays of the same shape (..., 3)."""
    l1, a1, b1 = (np.asarray(lab1[..., i], np.float64) for i in range(3))
    l2, a2, b2 = (np.asarray(lab2[..., i], np.float64) for i in range(3))
    c1 = np.hypot(a1, b1)
    c2 = np.hypot(a2, b2)
    c_mean7 = ((c1 + c2) / 2.0) ** 7
    g = 0.5 * (1.0 - np.sqrt(c_mean7 / (c_mean7 + 25.0**7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360.0
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360.0
    chroma_zero = (c1p * c2p) == 0
    dh = h2p - h1p
    dh = np.where(dh > 180.0, dh - 360.0, np.where(dh < -180.0, dh + 360.0, dh))
    dh = np.where(chroma_zero, 0.0, dh)
    d_l = l2 - l1
    d_c = c2p - c1p
    d_h = 2.0 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2.0))
    l_mean = (l1 + l2) / 2.0
    c_mean = (c1p + c2p) / 2.0
    h_sum = h1p + h2p
    h_mean = np.where(
        np.abs(h1p - h2p) <= 180.0,
        h_sum / 2.0,
        np.where(h_sum < 360.0, (h_sum + 360.0) / 2.0, (h_sum - 360.0) / 2.0),
    )
    h_mean = np.where(chroma_zero, h_sum, h_mean)
    t = (
        1.0
        - 0.17 * np.cos(np.radians(h_mean - 30.0))
        + 0.24 * np.cos(np.radians(2.0 * h_mean))
        + 0.32 * np.cos(np.radians(3.0 * h_mean + 6.0))
        - 0.20 * np.cos(np.radians(4.0 * h_mean - 63.0))
    )
    d_theta = 30.0 * np.exp(-(((h_mean - 275.0) / 25.0) ** 2))
    c_mean_7 = c_mean**7
    r_c = 2.0 * np.sqrt(c_mean_7 / (c_mean_7 + 25.0**7))
    s_l = 1.0 + 0.015 * (l_mean - 50.0) ** 2 / np.sqrt(20.0 + (l_mean - 50.0) ** 2)
    s_c = 1.0 + 0.045 * c_mean
    s_h = 1.0 + 0.015 * c_mean * t
    r_t = -np.sin(np.radians(2.0 * d_theta)) * r_c
    term_l, term_c, term_h = d_l / s_l, d_c / s_c, d_h / s_h
    return np.asarray(np.sqrt(term_l**2 + term_c**2 + term_h**2 + r_t * term_c * term_h), np.float32)


def lighting_gains(
    reference: np.ndarray, result: np.ndarray, exposure: tuple[float, float], tint: float
) -> np.ndarray:
    """Per-channel gains (3,) mapping `reference` pixels (Nx3, 0..1) towards `result`'s, limited to
    an exposure gain within `exposure` times per-channel tints within 1 +- `tint`.

    Medians of ratios over mid-tone pixels: robust to a changed label or a cut corner, which
    affect a minority of the product.
    """
    usable = (reference.max(axis=1) > 0.08) & (reference.max(axis=1) < 0.97)
    if int(usable.sum()) < 16:
        return np.ones(3, np.float32)
    ref, out = reference[usable], result[usable]
    ratios = np.median((out + 0.01) / (ref + 0.01), axis=0)
    ref_luma = ref @ np.array([0.299, 0.587, 0.114], np.float32)
    out_luma = out @ np.array([0.299, 0.587, 0.114], np.float32)
    overall = float(np.median((out_luma + 0.01) / (ref_luma + 0.01)))
    gain_exposure = float(np.clip(overall, *exposure))
    tints = np.clip(ratios / max(overall, 1e-3), 1.0 - tint, 1.0 + tint)
    return (tints * gain_exposure).astype(np.float32)
