"""The export gate (issue 17): marketplace rules checked before and during an export, AI labels.

Before an export, `preview_export` shows per image what the marketplace would reject as the
image is now (`before`), what the preset's rendering fixes (re-composited on pure white,
refitted, resized, re-encoded: `fixed`), and what is still wrong in the file that would be
exported (`remaining`), plus how much the picture had to be enlarged (`scale`). Review lists
these and lets the user skip enlarged images.

During the export, `ExportGate` is applied to each rendered file: an image that still breaks
a rule is left out (listed in export.csv with the rules it breaks) unless the user gave the
explicit override `allow_noncompliant`; an image enlarged more than `max_upscale` is left out
when the user chose to skip those. Every exported file carries the provenance label
(IPTC digital source type and the Chinese implicit AIGC label, `imaging.provenance`), and
optionally the visible "AI生成" label.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from imaging.compliance import ComplianceIssue, ComplianceReport, TextReader, check_compliance
from imaging.cutout import Segmenter
from imaging.marketplace import Preset
from studio.export_items import ExportItem

# Enlarging a picture more than this shows as softness on a listing (issue 18: list them first).
UPSCALE_WARNING = 1.5


@dataclass(frozen=True)
class ExportGate:
    """What the export checks and adds, per rendered file."""

    read_text: TextReader | None = None
    segmenter: Segmenter | None = None
    check_rules: bool = True
    # The user's explicit override: export images that still break the preset's rules.
    allow_noncompliant: bool = False
    # Leave out images enlarged more than this (None: keep them).
    max_upscale: float | None = None
    # "AI生成" drawn on each image (Chinese marketplaces); None: none.
    visible_label: str | None = None
    # provider key -> its name, for the metadata label.
    provider_labels: dict[str, str] | None = None
    # The font the visible label is drawn in (a CJK font file's bytes; face 2 of Noto Sans CJK is
    # Simplified Chinese); None: the label's own default.
    label_font: bytes | None = None
    label_font_index: int = 2

    def check(self, data: bytes, preset: Preset) -> ComplianceReport:
        return check_compliance(data, preset, segmenter=self.segmenter, read_text=self.read_text)


@dataclass(frozen=True)
class ExportPreview:
    """One image before an export: as it is, as it would be exported, and what the export changes."""

    item: ExportItem
    before: ComplianceReport | None  # the image as generated, against the preset
    after: ComplianceReport | None  # the file the export would write; None when it cannot be made
    error: str | None = None  # why the image cannot be exported at all
    scale: float = 1.0  # how much the picture (or product) is enlarged by the export

    @property
    def fixed(self) -> tuple[str, ...]:
        """Flags of the image as generated that the export's rendering puts right."""
        if self.before is None or self.after is None:
            return ()
        return tuple(flag for flag in self.before.flags if flag not in self.after.flags)

    @property
    def remaining(self) -> tuple[ComplianceIssue, ...]:
        return self.after.issues if self.after is not None else ()

    @property
    def compliant(self) -> bool:
        return self.error is None and self.after is not None and not self.after.flags

    @property
    def upscaled(self) -> bool:
        return self.scale > UPSCALE_WARNING


def summarise(previews: Iterable[ExportPreview]) -> dict[str, int]:
    """Counts for the page: images, compliant, fixed by the export, still failing, enlarged, unexportable."""
    counts = {"images": 0, "compliant": 0, "fixed": 0, "failing": 0, "upscaled": 0, "errors": 0}
    for preview in previews:
        counts["images"] += 1
        counts["compliant"] += preview.compliant
        counts["fixed"] += bool(preview.fixed) and preview.compliant
        counts["failing"] += preview.error is None and not preview.compliant
        counts["upscaled"] += preview.upscaled
        counts["errors"] += preview.error is not None
    return counts


def noncompliant_message(report: ComplianceReport) -> str:
    """The export.csv `error` text of an image left out for breaking the preset's rules."""
    return (
        f"not exported: breaks the {report.preset} rules ({', '.join(report.flags)}); "
        "export it anyway with the override, or fix the image"
    )


def upscaled_message(scale: float, limit: float) -> str:
    return f"not exported: it would be enlarged {scale:.1f}x (more than {limit:g}x); use a larger image"
