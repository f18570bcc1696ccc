"""The common frame the product fidelity check compares in: the original product's box, at the
coarser of the two scales (a product shrunk in the result is compared at the result's scale, an
enlarged one at the original's), so neither side is asked for detail the other cannot hold.

`Frame.of` builds it from an alignment; `Frame.warp` resamples either image into it, low-pass
filtered first when it is shrunk (no aliasing to read as "detail"), cropped to what the frame
sees so a 4000 px image costs no more than its product's box.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

COMPARE_SIDE = 600


@dataclass(frozen=True)
class Frame:
    width: int
    height: int
    to_original: np.ndarray  # 2x3: frame pixel -> original pixel
    to_result: np.ndarray  # 2x3: frame pixel -> result pixel

    @classmethod
    def of(cls, box: tuple[int, int, int, int], matrix: np.ndarray, *, side: int = COMPARE_SIDE) -> Frame:
        """`box` (x0, y0, x1, y1) of the product in the original; `matrix` original -> result."""
        x0, y0, x1, y1 = box
        scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
        factor = min(1.0, scale, side / max(x1 - x0, y1 - y0, 1))
        width = max(1, round((x1 - x0) * factor))
        height = max(1, round((y1 - y0) * factor))
        to_original = np.array([[1 / factor, 0.0, x0], [0.0, 1 / factor, y0]], np.float64)
        to_result = _compose(matrix, to_original)
        return cls(width, height, to_original, to_result)

    def warp(self, image: np.ndarray, to_source: np.ndarray, *, nearest: bool = False) -> np.ndarray:
        """`image` resampled into this frame through `to_source` (frame -> image pixels); outside
        the image is 0."""
        corners = np.array([[0, 0, 1], [self.width, 0, 1], [0, self.height, 1], [self.width, self.height, 1]])
        footprint = corners @ to_source.T
        step = float(np.hypot(to_source[0, 0], to_source[1, 0]))
        sigma = 0.5 * float(np.sqrt(max(0.0, step * step - 1.0)))
        pad = int(np.ceil(3 * sigma)) + 2
        height, width = image.shape[:2]
        sx0 = int(np.clip(np.floor(footprint[:, 0].min()) - pad, 0, width))
        sy0 = int(np.clip(np.floor(footprint[:, 1].min()) - pad, 0, height))
        sx1 = int(np.clip(np.ceil(footprint[:, 0].max()) + pad, 0, width))
        sy1 = int(np.clip(np.ceil(footprint[:, 1].max()) + pad, 0, height))
        shape = (self.height, self.width) + image.shape[2:]
        if sx1 - sx0 < 2 or sy1 - sy0 < 2:
            return np.zeros(shape, image.dtype)
        source = image[sy0:sy1, sx0:sx1]
        if sigma > 0.3 and not nearest:
            source = cv2.GaussianBlur(source, (0, 0), sigma)
        shifted = to_source.copy()
        shifted[0, 2] -= sx0
        shifted[1, 2] -= sy0
        flags = (cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR) | cv2.WARP_INVERSE_MAP
        warped = cv2.warpAffine(
            np.ascontiguousarray(source),
            shifted,
            (self.width, self.height),
            flags=flags,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        return np.asarray(warped).reshape(shape)

    def inside_result(self, result_shape: tuple[int, ...]) -> np.ndarray:
        """Bool HxW: frame pixels that fall inside the result image."""
        ones = np.full(result_shape[:2], 255, np.uint8)
        return self.warp(ones, self.to_result, nearest=True) > 0


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The 2x3 affine `outer` after `inner`."""
    full = np.vstack([outer, [0, 0, 1]]) @ np.vstack([inner, [0, 0, 1]])
    return np.asarray(full[:2])
