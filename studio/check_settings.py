"""Settings of the output checks (issue 17): on or off, OCR on or off, and the thresholds.

    STUDIO_CHECKS=off                    (`enabled` in [checks]; default on)
    STUDIO_CHECK_OCR=off                 (`ocr`; default on when tesseract is installed)
    STUDIO_CHECK_COLOUR_DE=6             (`colour_de`: mean CIEDE2000 over the product)
    STUDIO_CHECK_SHAPE_CHANGE=0.05       (`shape_change`: share of the product grown or cut)
    STUDIO_CHECK_DETAIL_LOSS=0.35        (`detail_loss`: share of fine structure lost)
    STUDIO_CHECK_TEXT_SIMILARITY=0.5     (`text_similarity`: OCR text alike below this is "changed")

Unset thresholds keep `imaging.fidelity.FidelityThresholds`' defaults, which
bench/fidelity.py measured against a labelled set (BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from studio.settings_base import SettingsError

# threshold name -> (environment variable, lowest allowed, highest allowed)
THRESHOLDS: Mapping[str, tuple[str, float, float]] = {
    "colour_de": ("STUDIO_CHECK_COLOUR_DE", 0.5, 100.0),
    "shape_change": ("STUDIO_CHECK_SHAPE_CHANGE", 0.001, 1.0),
    "detail_loss": ("STUDIO_CHECK_DETAIL_LOSS", 0.01, 1.0),
    "text_similarity": ("STUDIO_CHECK_TEXT_SIMILARITY", 0.0, 1.0),
}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class CheckSettings:
    enabled: bool = True
    ocr: bool = True
    # threshold name -> value, only those set; the rest keep FidelityThresholds' defaults
    # (`studio.output_checks.thresholds_of` merges them).
    thresholds: Mapping[str, float] = field(default_factory=dict)


def read_check_settings(env: Mapping[str, str], section: Mapping[str, Any]) -> CheckSettings:
    """The [checks] table and STUDIO_CHECK* variables; raises `SettingsError` naming the bad one."""

    def pick(name: str, env_var: str) -> tuple[str, str] | None:
        if env.get(env_var, "").strip():
            return env[env_var].strip(), env_var
        value = section.get(name)
        if value is not None and str(value).strip():
            return str(value).strip(), f"{name} in [checks] of secrets.toml"
        return None

    enabled = _switch(pick("enabled", "STUDIO_CHECKS"), True)
    ocr = _switch(pick("ocr", "STUDIO_CHECK_OCR"), True)
    values: dict[str, float] = {}
    for name, (env_var, lowest, highest) in THRESHOLDS.items():
        found = pick(name, env_var)
        if found is None:
            continue
        text, where = found
        try:
            number = float(text)
        except ValueError:
            raise SettingsError(
                f"{where} must be a number from {lowest:g} to {highest:g}, got {text!r}"
            ) from None
        if not lowest <= number <= highest:
            raise SettingsError(f"{where} must be from {lowest:g} to {highest:g}, got {text}")
        values[name] = number
    return CheckSettings(enabled=enabled, ocr=ocr, thresholds=values)


def _switch(found: tuple[str, str] | None, default: bool) -> bool:
    if found is None:
        return default
    text, where = found
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise SettingsError(f"{where} must be on or off, got {text!r}")
