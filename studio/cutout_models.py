"""The cutout's segmentation models on this installation: where each file is, whether it loads,
which quality is the default, and what to tell the user when the one they want is not usable.

"best" is ISNet (STUDIO_ISNET_PATH, models/isnet.onnx), "fast" is u2netp (STUDIO_U2NETP_PATH,
models/u2netp.onnx). STUDIO_CUTOUT_MODEL picks the default; unset, it is best when the ISNet
file is there, else fast. A missing or broken model never stops the app: its cutouts fall back
to the classical method, and `problem` says so, with the fix, for the pages and the CLI.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from imaging.cutout import Segmenter
from imaging.segmenters import MODEL_FOR_QUALITY, MODEL_LABELS, QUALITIES, Quality, load_segmenter
from studio.settings import Settings

logger = logging.getLogger(__name__)

_ENV = {"isnet": "STUDIO_ISNET_PATH", "u2netp": "STUDIO_U2NETP_PATH"}
_QUALITY_OF = {model: quality for quality, model in MODEL_FOR_QUALITY.items()}


@dataclass(frozen=True)
class ModelState:
    """One model as the Settings page and the CLI describe it."""

    model: str  # "isnet" | "u2netp"
    label: str  # "ISNet" | "u2netp"
    quality: Quality
    path: Path
    env: str  # the setting that moves the file
    found: bool
    error: str | None  # why the file would not load; None when it loaded or was not tried
    default: bool  # the quality a job gets when it chooses none

    @property
    def usable(self) -> bool:
        return self.found and self.error is None

    def problem(self) -> str | None:
        """One English sentence, with the fix, when this model cannot make cutouts; else None."""
        if self.usable:
            return None
        what = f"The {self.label} cutout model ({self.quality.capitalize()})"
        state = f"cannot be loaded ({self.error})" if self.found else "is missing"
        return (
            f"{what} {state} at {self.path}: cutouts that use it fall back to the classical method. "
            f"Run scripts/fetch_model.py {self.model}, or set {self.env} to where the file is, "
            "then restart the app."
        )


class CutoutModels:
    """Paths, loading and the default quality; load errors are kept to be shown, never raised."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._errors: dict[str, str] = {}
        self._lock = threading.Lock()

    def path(self, model: str) -> Path:
        return self._settings.isnet_path if model == "isnet" else self._settings.model_path

    def default_quality(self) -> Quality:
        configured = self._settings.cutout_model
        if configured == "best":
            return "best"
        if configured == "fast":
            return "fast"
        return "best" if self.path("isnet").is_file() else "fast"

    def quality(self, choice: object) -> Quality:
        """A job's choice ("best", "fast"; None or "" for the default), checked."""
        if choice in (None, ""):
            return self.default_quality()
        if choice == "best":
            return "best"
        if choice == "fast":
            return "fast"
        raise ValueError(f"cutout quality must be one of {', '.join(QUALITIES)}, got {choice!r}")

    def load(self, model: str, *, threads: int = 2) -> Segmenter | None:
        """The model's segmenter, or None (missing or broken file, with the reason kept).
        `threads`: onnxruntime's intra-op threads (1 runs the model on the calling thread only)."""
        path = self.path(model)
        if not path.is_file():
            logger.warning(
                "no %s model at %s; its cutouts use the classical method (run scripts/fetch_model.py %s)",
                model,
                path,
                model,
            )
            return None
        try:
            return load_segmenter(model, path.read_bytes(), threads=threads)
        except (OSError, ValueError) as exc:
            with self._lock:
                self._errors[model] = f"{type(exc).__name__}: {exc}"
            logger.warning(
                "cannot load the %s model at %s (%s); using the classical cutout", model, path, exc
            )
            return None

    def error(self, model: str) -> str | None:
        with self._lock:
            return self._errors.get(model)

    def state(self, model: str) -> ModelState:
        quality = _QUALITY_OF[model]
        return ModelState(
            model=model,
            label=MODEL_LABELS[model],
            quality=quality,
            path=self.path(model),
            env=_ENV[model],
            found=self.path(model).is_file(),
            error=self.error(model),
            default=quality == self.default_quality(),
        )

    def states(self) -> list[ModelState]:
        """Best first."""
        return [self.state(MODEL_FOR_QUALITY[quality]) for quality in QUALITIES]

    def problem(self, quality: object = None) -> str | None:
        """What is wrong with the model behind `quality` (default: the default's), or None."""
        return self.state(MODEL_FOR_QUALITY[self.quality(quality)]).problem()
