"""`python -m studio inspect ORIGINAL RESULT`: the output checks for one pair of files.

    python -m studio inspect photo.jpg result.png                  is the product still the same?
    python -m studio inspect photo.jpg result.png --mask mask.png  the product's exact mask
    python -m studio inspect photo.jpg result.png --preset amazon  ... and may it be Amazon's main image?
    python -m studio inspect photo.jpg result.png --json           one JSON object

With --json the object is `{"product": {"flags": [...], ...measures}, "compliance":
{"preset": ..., "flags": [...], ...}}`, "compliance" only with --preset. Product flags:
colour_shift, shape_changed, detail_lost, text_changed, product_missing; compliance flags:
background_not_white, fill_too_small, too_small, wrong_size, file_too_large,
text_or_watermark. Exit status 0: nothing flagged, 1: something flagged, 2: bad input.
The thresholds are the app's ([checks] in secrets.toml, STUDIO_CHECK_* variables).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from imaging.compliance import check_compliance
from imaging.fidelity import check_product
from studio.cli_batch import BatchUsageError, add_preset_arguments, preset_from_args
from studio.cutout_models import CutoutModels
from studio.i18n import translate
from studio.ocr import make_text_reader
from studio.output_checks import describe_settings, product_segmenter, read_mask, read_rgb, thresholds_of
from studio.safe_files import MAX_INPUT_BYTES, FileRefused, read_regular_file
from studio.settings import load_settings

EXIT_OK, EXIT_FLAGGED = 0, 1


def add_commands(commands: Any) -> None:
    inspect = commands.add_parser(
        "inspect",
        help="check a result against its original: product changed? marketplace rules met? (JSON with --json)",
        description=(
            "Compare RESULT with the product in ORIGINAL (colour, detail, shape, printed text, product "
            "missing) and, with --preset, check RESULT against a marketplace's image rules. Exit status: "
            "0 nothing flagged, 1 something flagged, 2 bad input."
        ),
    )
    inspect.add_argument("original", metavar="ORIGINAL", help="the input photo or cut-out (PNG with alpha)")
    inspect.add_argument("result", metavar="RESULT", help="the generated image")
    inspect.add_argument("--mask", metavar="MASK", help="the product's mask in ORIGINAL (white = product)")
    add_preset_arguments(inspect, default=None)
    inspect.add_argument("--json", action="store_true", help="print one JSON object")
    inspect.set_defaults(handler=run_inspect)


def run_inspect(args: argparse.Namespace) -> int:
    original_bytes = _read(args.original, "ORIGINAL")
    result_bytes = _read(args.result, "RESULT")
    mask_bytes = _read(args.mask, "--mask") if args.mask else None
    preset = preset_from_args(args) if args.preset else None
    original = _pixels(original_bytes, "ORIGINAL", keep_alpha=True)
    result = _pixels(result_bytes, "RESULT", keep_alpha=False)
    mask = None
    if mask_bytes is not None:
        try:
            mask = read_mask(mask_bytes)
        except Exception:
            raise BatchUsageError(f"--mask: {args.mask} is not a readable image; give a PNG mask") from None
        if mask.shape != original.shape[:2]:
            raise BatchUsageError(
                f"--mask is {mask.shape[1]}x{mask.shape[0]} but ORIGINAL is "
                f"{original.shape[1]}x{original.shape[0]}; give the mask of ORIGINAL at its size"
            )
    settings = load_settings()
    segmenter = CutoutModels(settings).load("u2netp")
    segment = product_segmenter(segmenter) if segmenter is not None else None
    read_text = make_text_reader() if settings.checks.ocr else None
    product = check_product(
        original,
        result,
        original_mask=mask,
        segment=segment,
        read_text=read_text,
        thresholds=thresholds_of(settings.checks),
    )
    report: dict[str, Any] = {"product": product.as_json()}
    flagged = bool(product.flags)
    if preset is not None:
        compliance = check_compliance(result_bytes, preset, segmenter=segmenter, read_text=read_text)
        report["compliance"] = compliance.as_json()
        flagged = flagged or bool(compliance.flags)
    report["settings"] = describe_settings(settings.checks)
    if args.json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
    else:
        _print_text(report, ocr=read_text is not None)
    return EXIT_FLAGGED if flagged else EXIT_OK


def _read(path: str, what: str) -> bytes:
    try:
        return read_regular_file(path, MAX_INPUT_BYTES)
    except FileRefused as exc:
        raise BatchUsageError(f"{what}: {exc}") from None


def _pixels(data: bytes, what: str, *, keep_alpha: bool) -> Any:
    try:
        return read_rgb(data, keep_alpha=keep_alpha)
    except Exception:
        raise BatchUsageError(f"{what} is not a readable image (PNG, JPEG or WebP)") from None


def _print_text(report: dict[str, Any], *, ocr: bool) -> None:
    product = report["product"]
    if product["flags"]:
        print("product: CHANGED")
    else:
        print("product: faithful (no change found)")
    for reason in product.get("reasons", []):
        print(f"  - {translate('en', reason['key'], **reason.get('params', {}))}")
    if not ocr:
        print("  (printed text not compared: tesseract is not installed or STUDIO_CHECK_OCR=off)")
    compliance = report.get("compliance")
    if compliance is not None:
        verdict = "does not meet its rules" if compliance["flags"] else "meets its rules"
        print(f"marketplace ({compliance['preset']}): {verdict}")
        for issue in compliance.get("issues", []):
            fix = " (the export fixes this)" if issue.get("fixable") else ""
            print(f"  - {translate('en', issue['key'], **issue.get('params', {}))}{fix}")
