"""Engine status for the settings page: cutout models, font, storage, worker. No secrets."""

from __future__ import annotations

from typing import Any

from studio.cutout_models import CutoutModels
from studio.ocr import installed_languages, tesseract_available
from studio.output_checks import describe_settings
from studio.settings import Settings
from studio.store import Store
from studio.worker import Worker


def engine_status(
    settings: Settings, cutout_models: CutoutModels, store: Store, worker: Worker
) -> dict[str, Any]:
    """Facts for the settings page: model, font, storage, worker. No secrets."""
    font = settings.cjk_font_path
    models = cutout_models.states()
    default = next(state for state in models if state.default)
    return {
        # The default quality's model: what a cutout uses when the job does not choose.
        "cutout_method": "model" if default.usable else "classical",
        "cutout_quality": default.quality,
        "cutout_model": default.model,
        "model_path": str(default.path),
        "model_found": default.found,
        "model_error": default.error,
        "models": [
            {
                "model": state.model,
                "label": state.label,
                "quality": state.quality,
                "path": str(state.path),
                "env": state.env,
                "found": state.found,
                "error": state.error,
                "default": state.default,
            }
            for state in models
        ],
        "cjk_font_path": str(font) if font else None,
        "cjk_font_found": bool(font and font.is_file()),
        "data_dir": str(settings.data_dir),
        "database": settings.safe_database_url,
        # Where job files are: the data folder, or a shared bucket (never its keys).
        "file_storage": settings.storage.describe() if settings.storage else None,
        "worker_alive": worker.is_alive,
        "app_worker": settings.app_worker,
        "worker_threads": worker.threads,
        "jobs_by_status": store.status_counts(),
        "language": settings.default_language,
        # The output checks: on/off, their thresholds, and whether printed text can be read.
        "checks": {
            **describe_settings(settings.checks),
            "ocr_languages": sorted(installed_languages()) if tesseract_available() else [],
        },
    }
