"""The segmentation models the cutout can use, by quality, and how a cutout is recorded per job.

Two models, both run with onnxruntime on the CPU:

- "best": ISNet general-use (DIS, Qin et al., Apache-2.0), `ISNetSegmenter`: 1024x1024 input,
  far finer edges and fewer lost parts than u2netp, about 20x its cost;
- "fast": u2netp (`imaging.cutout.U2NetpSegmenter`): 320x320 input.

Which file holds which model, and which quality is the default, is `studio`'s business; this
module only turns model bytes into a `Segmenter` and a `Cutout` into the words a job records
(`cutout_record`, e.g. "isnet + guided" or "classical (model missing)").
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Literal

import cv2
import numpy as np

from imaging.cutout import Cutout, Segmenter, U2NetpSegmenter
from imaging.onnx_session import open_model

Quality = Literal["best", "fast"]
QUALITIES: tuple[Quality, ...] = ("best", "fast")
# Which model makes each quality. A dict read top to bottom, never a match on names.
MODEL_FOR_QUALITY: dict[Quality, str] = {"best": "isnet", "fast": "u2netp"}
MODEL_LABELS = {"isnet": "ISNet", "u2netp": "u2netp"}

ISNET_SIDE = 1024
# rembg's DIS sessions: scale by the image's maximum, subtract ImageNet's mean, no division.
_ISNET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
# Maps of the last few photos, so the page's preview and the job that follows run ISNet once.
_MEMO_SIZE = 4


class ISNetSegmenter:
    """ISNet general-use (DIS) through onnxruntime: the fp32 release file or IMG.LY's fp16 copy.

    Both take a float32 1x3x1024x1024 input (the fp16 copy casts inside the graph). The session
    runs without onnxruntime's memory arena and memory pattern: with them, one 1024x1024 run
    kept about 1 GB more resident (2.2 GB peak instead of 1.2 GB) for a few percent of speed.
    One session is shared by all threads (`run` is thread-safe).
    """

    name = "isnet"

    # ISNet keeps the holes it sees: a region its map is sure of is product (see cutout._refine).
    fills_holes = False

    def __init__(self, model_bytes: bytes, *, threads: int = 2, memo: int = _MEMO_SIZE) -> None:
        """`memo`: how many photos' maps to remember (0: none, for benchmarks of the whole job)."""
        model = open_model(
            model_bytes,
            side=ISNET_SIDE,
            threads=threads,
            load_failed=(
                "The ISNet model could not be loaded ({error}). "
                "Fetch models/isnet.onnx again with scripts/fetch_model.py isnet."
            ),
            wrong_shape=(
                "The ISNet model takes {shapes}, not one 1x3x1024x1024 image; "
                "use isnet-general-use.onnx (scripts/fetch_model.py isnet)."
            ),
            low_memory=True,
        )
        self._session, self._input, self._output = model.session, model.input_name, model.output_name
        self._memo: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._memo_size = memo
        self._memo_lock = threading.Lock()

    def infer(self, rgb: np.ndarray) -> np.ndarray:
        """Bare inference: the 1024x1024 float32 map in [0, 1] (rembg's pre- and post-processing)."""
        rgb = _as_rgb(rgb)
        small = cv2.resize(rgb, (ISNET_SIDE, ISNET_SIDE), interpolation=_interpolation(rgb.shape, ISNET_SIDE))
        x = small.astype(np.float32)
        x *= 1.0 / max(1.0, float(x.max()))
        x -= _ISNET_MEAN
        tensor = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
        output = self._session.run([self._output], {self._input: tensor})[0]
        return _min_max(np.asarray(output, np.float32)[0, 0])

    def memo_infer(self, rgb: np.ndarray) -> np.ndarray:
        """`infer`, remembered for the last few photos (keyed by their pixels)."""
        rgb = _as_rgb(rgb)
        if self._memo_size <= 0:
            return self.infer(rgb)
        key = _digest(rgb)
        with self._memo_lock:
            hit = self._memo.get(key)
            if hit is not None:
                self._memo.move_to_end(key)
                return hit
        pred = self.infer(rgb)
        pred.setflags(write=False)
        with self._memo_lock:
            self._memo[key] = pred
            while len(self._memo) > self._memo_size:
                self._memo.popitem(last=False)
        return pred

    def predict(self, rgb: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
        """The map at the input's size (or at `size` = (width, height)), float32 in [0, 1]."""
        height, width = rgb.shape[:2]
        target = size or (width, height)
        pred = self.memo_infer(rgb)
        interpolation = (
            cv2.INTER_AREA if target[0] < ISNET_SIDE and target[1] < ISNET_SIDE else cv2.INTER_LINEAR
        )
        return np.asarray(cv2.resize(pred, target, interpolation=interpolation), np.float32)


class FixedMap:
    """A segmenter that answers with a map already computed (on the full photo) for a smaller copy.

    The page's preview runs the model on the full photo, where the job will run it too, and the
    refinement on a display-size copy.
    """

    def __init__(self, name: str, prob: np.ndarray, *, fills_holes: bool = True) -> None:
        self.name = name
        self.fills_holes = fills_holes
        self._prob = np.asarray(prob, np.float32)

    def infer(self, rgb: np.ndarray) -> np.ndarray:
        return self._prob

    def predict(self, rgb: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
        height, width = rgb.shape[:2]
        target = size or (width, height)
        if target == (self._prob.shape[1], self._prob.shape[0]):
            return self._prob
        return np.asarray(cv2.resize(self._prob, target, interpolation=cv2.INTER_LINEAR), np.float32)


def load_segmenter(model: str, model_bytes: bytes, *, threads: int = 2) -> Segmenter:
    """The segmenter for `model` ("isnet" or "u2netp"); ModelLoadError when the bytes will not do."""
    if model == "isnet":
        return ISNetSegmenter(model_bytes, threads=threads)
    if model == "u2netp":
        return U2NetpSegmenter(model_bytes, threads=threads)
    raise ValueError(f"unknown segmentation model {model!r}; known: {', '.join(MODEL_LABELS)}")


def model_for(quality: str) -> str:
    """The model that makes `quality` ("best" -> "isnet", "fast" -> "u2netp")."""
    if quality not in MODEL_FOR_QUALITY:
        raise ValueError(f"cutout quality must be one of {', '.join(QUALITIES)}, got {quality!r}")
    return MODEL_FOR_QUALITY[quality]  # type: ignore[index]


# ------------------------------------------------------------------ the record
def cutout_record(cutout: Cutout, *, wanted: str | None, ran: bool) -> dict[str, Any]:
    """What a job records about its cutout, as JSON-ready notes.

    `wanted` is the model the job asked for (None: it asked for none); `ran` says whether that
    model was there to run. `cutout_method` is one line for people and scripts:
    "isnet + guided", "u2netp + guided", "classical (model missing)", "classical (nothing found)",
    "mask" (the user's own mask) or "alpha" (the photo's own transparency).
    """
    notes: dict[str, Any] = {
        "cutout_method": _method_text(cutout, wanted=wanted, ran=ran),
        "cutout_model": cutout.model,
        "cutout_refinement": cutout.refinement,
    }
    if wanted is not None and not ran and cutout.method == "classical":
        notes["cutout_model_missing"] = wanted
    return notes


def _method_text(cutout: Cutout, *, wanted: str | None, ran: bool) -> str:
    if cutout.method == "model":
        model = cutout.model or wanted or "model"
        return f"{model} + {cutout.refinement}" if cutout.refinement else model
    if cutout.method == "classical":
        if wanted is None:
            return "classical"
        return "classical (nothing found)" if ran else "classical (model missing)"
    return str(cutout.method)


# ------------------------------------------------------------------ helpers
def _as_rgb(rgb: np.ndarray) -> np.ndarray:
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise ValueError(f"expected an HxWx3 uint8 RGB array, got shape {rgb.shape} {rgb.dtype}")
    return np.ascontiguousarray(rgb[..., :3])


def _interpolation(shape: tuple[int, ...], side: int) -> int:
    # Area averaging when shrinking (no aliasing, as rembg's Lanczos); bicubic when a photo grows.
    return cv2.INTER_AREA if min(shape[:2]) >= side else cv2.INTER_CUBIC


def _min_max(pred: np.ndarray) -> np.ndarray:
    low, high = float(pred.min()), float(pred.max())
    if high - low < 1e-6:
        return np.zeros_like(pred)
    return (pred - low) / (high - low)


def _digest(rgb: np.ndarray) -> bytes:
    digest = hashlib.blake2b(rgb.data.cast("B"), digest_size=16)
    digest.update(repr(rgb.shape).encode())
    return digest.digest()
