"""Finding the original product in an output image: the similarity transform (scale, rotation,
shift) that carries the original's pixels onto the result's, for the product fidelity check.

Three ways, tried in order:

1. features: ORB keypoints on the product and in the result, Lowe's ratio test, and a RANSAC
   similarity (`cv2.estimateAffinePartial2D`): handles moves, scaling and small rotations, and
   ignores a new background (its keypoints do not match);
2. template: multi-scale matching of the product's gradient magnitude (inside its mask, so the
   old background does not count) over the result, coarse to fine. Gradients rather than
   colours, so a colour-shifted or relit product is still found; for plain products with too
   few keypoints;
3. mask: when the product was segmented in the result, the scale from the two areas and the
   shift from the two centroids.

All of it runs on reduced copies (the product about 360 px, the result at most 640 px); the
returned matrix is in full-resolution pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PRODUCT_SIDE = 360
RESULT_SIDE = 640
_COARSE_SIDE = 200
_MIN_INLIERS = 10
_MIN_INLIER_SHARE = 0.2
_MIN_TEMPLATE_SCORE = 0.35
_SCALE_RANGE = (0.08, 12.0)


@dataclass(frozen=True)
class Alignment:
    """`matrix` (2x3) maps original pixel coordinates onto result pixel coordinates."""

    matrix: np.ndarray
    method: str  # "features" | "template" | "mask"
    # Features: RANSAC inliers; template: the normalised correlation x 100; mask: 0.
    support: int

    @property
    def scale(self) -> float:
        return float(np.hypot(self.matrix[0, 0], self.matrix[1, 0]))

    @property
    def rotation_deg(self) -> float:
        return float(np.degrees(np.arctan2(self.matrix[1, 0], self.matrix[0, 0])))


def align_product(
    original: np.ndarray, mask: np.ndarray, result: np.ndarray, result_mask: np.ndarray | None
) -> Alignment | None:
    """Where the masked product of `original` (RGB, mask uint8) is in `result` (RGB), or None."""
    ys, xs = np.nonzero(mask >= 128)
    if xs.size < 16:
        return None
    x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    margin = max(4, (max(x1 - x0, y1 - y0)) // 20)
    x0, y0 = max(0, x0 - margin), max(0, y0 - margin)
    x1, y1 = min(original.shape[1], x1 + margin), min(original.shape[0], y1 + margin)
    f_o = min(1.0, PRODUCT_SIDE / max(x1 - x0, y1 - y0))
    f_r = min(1.0, RESULT_SIDE / max(result.shape[:2]))
    crop = _resize(original[y0:y1, x0:x1], f_o)
    crop_mask = _resize(mask[y0:y1, x0:x1], f_o)
    small = _resize(result, f_r)
    small_mask = None if result_mask is None else _resize(result_mask, f_r)
    # Full original -> crop work pixels, and result work pixels -> full result.
    to_crop = np.array([[f_o, 0, -x0 * f_o], [0, f_o, -y0 * f_o], [0, 0, 1]], np.float64)
    from_small = np.array([[1 / f_r, 0, 0], [0, 1 / f_r, 0], [0, 0, 1]], np.float64)

    def full(matrix: np.ndarray) -> np.ndarray:
        return (from_small @ np.vstack([matrix, [0, 0, 1]]) @ to_crop)[:2]

    found = _by_features(crop, crop_mask, small, small_mask)
    if found is not None:
        return Alignment(full(found[0]), "features", found[1])
    candidates: list[tuple[str, np.ndarray, int]] = []
    by_template = _by_template(crop, crop_mask, small, small_mask)
    if by_template is not None:
        candidates.append(("template", *by_template))
    by_mask = None if small_mask is None else _by_mask(crop_mask, small_mask)
    if by_mask is not None:
        candidates.append(("mask", by_mask, 0))
    if not candidates:
        return None
    if small_mask is not None and len(candidates) > 1:
        # A blurred product can pull the template's scale, a grown one the mask's centroid:
        # keep whichever lays the product's outline best over the segmented one.
        candidates.sort(key=lambda c: _overlap(crop_mask, c[1], small_mask), reverse=True)
    method, matrix, support = candidates[0]
    return Alignment(full(matrix), method, support)


def _overlap(crop_mask: np.ndarray, matrix: np.ndarray, small_mask: np.ndarray) -> float:
    """Intersection over union of the product's mask carried by `matrix` with the segmented one."""
    height, width = small_mask.shape
    placed = cv2.warpAffine(crop_mask, matrix, (width, height), flags=cv2.INTER_LINEAR) >= 128
    found = small_mask >= 128
    union = int((placed | found).sum())
    return float((placed & found).sum()) / union if union else 0.0


def _resize(image: np.ndarray, factor: float) -> np.ndarray:
    if factor >= 1.0:
        return image
    height, width = image.shape[:2]
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))


def _grey(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))


def _search_mask(result_mask: np.ndarray | None) -> np.ndarray | None:
    """Where in the result to look: the segmented product, generously dilated (None: everywhere)."""
    if result_mask is None or int((result_mask >= 128).sum()) < 16:
        return None
    radius = max(5, max(result_mask.shape) // 25)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return np.asarray(cv2.dilate((result_mask >= 128).astype(np.uint8) * 255, kernel))


def _by_features(
    crop: np.ndarray, crop_mask: np.ndarray, small: np.ndarray, small_mask: np.ndarray | None
) -> tuple[np.ndarray, int] | None:
    orb_product = cv2.ORB.create(nfeatures=1200, fastThreshold=10, edgeThreshold=15, patchSize=21)
    orb_result = cv2.ORB.create(nfeatures=3000, fastThreshold=10, edgeThreshold=15, patchSize=21)
    kernel = np.ones((7, 7), np.uint8)
    product_where = cv2.dilate((crop_mask >= 128).astype(np.uint8) * 255, kernel)
    kp1, des1 = orb_product.detectAndCompute(_grey(crop), product_where)
    kp2, des2 = orb_result.detectAndCompute(_grey(small), _search_mask(small_mask))
    if des1 is None or des2 is None or len(kp1) < _MIN_INLIERS or len(kp2) < _MIN_INLIERS:
        return None
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(des1, des2, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < _MIN_INLIERS:
        return None
    src = np.array([kp1[m.queryIdx].pt for m in good], np.float32)
    dst = np.array([kp2[m.trainIdx].pt for m in good], np.float32)
    matrix, inliers = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0, maxIters=3000, confidence=0.995
    )
    if matrix is None or inliers is None:
        return None
    count = int(inliers.sum())
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    if count < _MIN_INLIERS or count < _MIN_INLIER_SHARE * len(good):
        return None
    if not _SCALE_RANGE[0] < scale < _SCALE_RANGE[1]:
        return None
    return np.asarray(matrix, np.float64), count


def _gradient(rgb: np.ndarray) -> np.ndarray:
    # Smoothed so a slightly soft or re-rendered product still matches its sharp original.
    grey = cv2.GaussianBlur(_grey(rgb).astype(np.float32), (0, 0), 1.5)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return np.asarray(cv2.magnitude(gx, gy))


def _by_template(
    crop: np.ndarray, crop_mask: np.ndarray, small: np.ndarray, small_mask: np.ndarray | None
) -> tuple[np.ndarray, int] | None:
    """Coarse search over scales (around the segmented area's scale when there is one), then a
    fine search around the best; the product's gradients inside its mask against the result's."""
    product_area = float((crop_mask >= 128).sum())
    scales: np.ndarray
    if small_mask is not None and int((small_mask >= 128).sum()) >= 16:
        guess = float(np.sqrt((small_mask >= 128).sum() / max(product_area, 1.0)))
        scales = guess * np.geomspace(0.75, 1.3, 7)
    else:
        largest = min(small.shape[0] / crop.shape[0], small.shape[1] / crop.shape[1])
        scales = np.geomspace(0.1, max(0.1, largest), 24)
    # Coarse: everything reduced so the result is about 200 px.
    coarse = min(1.0, _COARSE_SIDE / max(small.shape[:2]))
    best = _best_match(crop, crop_mask, small, scales, coarse)
    if best is None:
        return None
    scale, _, _ = best
    fine = _best_match(crop, crop_mask, small, scale * np.geomspace(0.93, 1.075, 5), 1.0)
    if fine is None or fine[2] < _MIN_TEMPLATE_SCORE:
        return None
    scale, (x, y), score = fine
    matrix = np.array([[scale, 0.0, x], [0.0, scale, y]], np.float64)
    return matrix, round(score * 100)


def _best_match(
    crop: np.ndarray, crop_mask: np.ndarray, small: np.ndarray, scales: np.ndarray, factor: float
) -> tuple[float, tuple[float, float], float] | None:
    """(scale, top-left in `small` pixels, score) of the best match over `scales`, searched with
    both images reduced by `factor`."""
    image = _gradient(_resize(small, factor) if factor < 1 else small)
    best: tuple[float, tuple[float, float], float] | None = None
    for scale in scales:
        size_factor = float(scale) * factor
        width = round(crop.shape[1] * size_factor)
        height = round(crop.shape[0] * size_factor)
        if width < 8 or height < 8 or width > image.shape[1] or height > image.shape[0]:
            continue
        interpolation = cv2.INTER_AREA if size_factor < 1 else cv2.INTER_LINEAR
        template = _gradient(cv2.resize(crop, (width, height), interpolation=interpolation))
        where = cv2.resize(crop_mask, (width, height), interpolation=cv2.INTER_LINEAR)
        where = cv2.dilate((where >= 128).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
        if float(where.sum()) < 32 or float(template.std()) < 1e-3:
            continue
        scores = cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED, mask=where)
        scores = np.nan_to_num(scores, nan=-1.0, posinf=-1.0, neginf=-1.0)
        _, value, _, location = cv2.minMaxLoc(scores)
        if best is None or value > best[2]:
            x, y = location[0] / factor, location[1] / factor
            best = (float(width / factor / crop.shape[1]), (x, y), float(value))
    return best


def _by_mask(crop_mask: np.ndarray, small_mask: np.ndarray) -> np.ndarray | None:
    moments_a = cv2.moments((crop_mask >= 128).astype(np.uint8), binaryImage=True)
    moments_b = cv2.moments((small_mask >= 128).astype(np.uint8), binaryImage=True)
    if moments_a["m00"] < 16 or moments_b["m00"] < 16:
        return None
    scale = float(np.sqrt(moments_b["m00"] / moments_a["m00"]))
    ax, ay = moments_a["m10"] / moments_a["m00"], moments_a["m01"] / moments_a["m00"]
    bx, by = moments_b["m10"] / moments_b["m00"], moments_b["m01"] / moments_b["m00"]
    return np.array([[scale, 0.0, bx - scale * ax], [0.0, scale, by - scale * ay]], np.float64)
