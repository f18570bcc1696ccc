"""Planning: one manifest row (or uploaded file) checked into a batch item or a list of problems.

`_Planner` reads each row's workflow, size and count, loads its files, runs it
through `Studio.check_job` (nothing is written) and at the end sums the
estimates per currency and provider into a `BatchPlan`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any

from providers.base import Money, Operation
from studio import pricing
from studio.manifest_base import (
    _SIZE,
    _WORKFLOWS,
    PARAM_PREFIX,
    BatchDefaults,
    BatchItem,
    BatchPlan,
    RowProblem,
    _Issue,
    _Source,
)
from studio.service import CheckedJob, JobRequest, PreparedImage, Studio, StudioInputError

# Where a StudioInputError points in the row, by code (bad_param and prompt_too_long are worked out).
_CODE_COLUMNS: dict[str, str] = {
    "unknown_provider": "provider",
    "provider_not_configured": "provider",
    "needs_hosting": "provider",
    "unsupported_workflow": "workflow",
    "bad_count": "count",
    "bad_size": "size",
    "missing_scene": "scene",
    "scene_not_found": "scene",
    "mask_not_taken": "mask",
    "mask_size_mismatch": "mask",
    "mask_empty": "mask",
    "mask_full": "mask",
    "mask_corrupt": "mask",
    "empty": "image",
    "corrupt": "image",
    "unsupported_format": "image",
    "too_many_pixels": "image",
    "too_small": "image",
    "too_large": "image",
    "provider_too_small": "image",
    "provider_too_large": "image",
    "too_many_bytes": "image",
    "backdrop_not_found": "backdrop",
    "backdrop_ambiguous": "backdrop",
    "backdrop_not_taken": "backdrop",
}


class _Planner:
    """Turns rows into items and problems, and sums the estimates at the end."""

    def __init__(self, studio: Studio, defaults: BatchDefaults, problems: Iterable[RowProblem] = ()) -> None:
        self.studio = studio
        self.defaults = defaults
        self.items: list[BatchItem] = []
        self.problems: list[RowProblem] = list(problems)
        self._skus: dict[str, int] = {}

    def problem(self, row: int, sku: str, issue: _Issue) -> None:
        self.problems.append(RowProblem(row, sku, issue.column, issue.code, issue.message, issue.params))

    def add(
        self,
        row: int,
        cells: Mapping[str, str],
        params: Mapping[str, str],
        image: _Source | None,
        mask: _Source | None,
        issues: list[_Issue],
        image_name: str = "",
    ) -> None:
        """Check one row; `issues` already holds what went wrong loading its files.

        An empty SKU becomes the image file's stem (`image_name` when the file could not be loaded)."""
        defaults = self.defaults
        sku = cells.get("sku", "") or PurePosixPath(image.name if image else image_name).stem
        workflow = self._workflow(cells.get("workflow", ""), issues)
        provider = cells.get("provider", "") or defaults.provider or ""
        if not provider:
            issues.append(
                _Issue(
                    "provider",
                    "missing_provider",
                    "No provider is given: write its name (for example local) in the provider column, "
                    "or choose one for the whole batch.",
                )
            )
        size = self._size(cells.get("size", ""), issues)
        count = self._count(cells.get("count", ""), issues)
        raw_params: dict[str, Any] = {}
        if provider == defaults.provider and workflow == defaults.workflow:
            raw_params.update(defaults.params)
        raw_params.update({name: value for name, value in params.items() if value != ""})
        if cells.get("backdrop", "").strip():
            raw_params["backdrop_id"] = cells["backdrop"].strip()

        prepared: PreparedImage | None = None
        if image is not None:
            try:
                prepared = self.studio.prepare_image(image.data, image.name)
            except StudioInputError as exc:
                issues.append(_Issue.of("image", exc))
        mask_png = mask.data if mask is not None else None

        request: JobRequest | None = None
        checked: CheckedJob | None = None
        if prepared is not None and workflow is not None and provider:
            if defaults.fit:
                prepared, mask_png = self._fit(prepared, mask_png, provider, workflow)
            request = JobRequest(
                workflow=workflow,
                provider=provider,
                image=prepared,
                mask_png=mask_png,
                prompt=cells.get("prompt", "") or defaults.prompt,
                negative_prompt=cells.get("negative_prompt", "") or defaults.negative_prompt,
                scene_id=cells.get("scene", "") or defaults.scene or None,
                count=count,
                size=size,
                params=raw_params,
                source="batch",
            )
            try:
                checked = self.studio.check_job(request)
            except StudioInputError as exc:
                issues.append(_Issue.of(_column_for(exc, request), exc))

        if sku:
            first = self._skus.setdefault(sku.casefold(), row)
            if first != row:
                issues.append(
                    _Issue(
                        "sku",
                        "duplicate_sku",
                        f"The SKU '{sku}' is already used by row {first}; exported files are named by SKU, "
                        "so give each row its own SKU.",
                        {"sku": sku, "first_row": first},
                    )
                )
        if issues:
            for issue in issues:
                self.problem(row, sku, issue)
        elif request is not None and checked is not None:
            # The mask as checked: single-channel at the photo's size, what submit_job stores.
            self.items.append(BatchItem(row, sku, replace(request, mask_png=checked.mask_png), checked))

    def _workflow(self, text: str, issues: list[_Issue]) -> Operation | None:
        if not text:
            if self.defaults.workflow is None:
                issues.append(
                    _Issue(
                        "workflow",
                        "missing_workflow",
                        "No workflow is given: write scene, prompt or model in the workflow column, "
                        "or choose one for the whole batch.",
                    )
                )
                return None
            return Operation(self.defaults.workflow)
        workflow = _WORKFLOWS.get(text.strip().lower().replace(" ", "_").replace("-", "_"))
        if workflow is None:
            issues.append(
                _Issue(
                    "workflow",
                    "bad_workflow",
                    f"The workflow '{text}' is not known; write scene, prompt or model.",
                    {"value": text},
                )
            )
        return workflow

    def _size(self, text: str, issues: list[_Issue]) -> tuple[int, int] | None:
        if not text:
            return self.defaults.size
        match = _SIZE.match(text)
        if match is None:
            issues.append(
                _Issue(
                    "size",
                    "bad_size",
                    f"The size '{text}' is not width x height in pixels; write it like 1000x1000.",
                    {"value": text},
                )
            )
            return None
        return int(match.group(1)), int(match.group(2))

    def _count(self, text: str, issues: list[_Issue]) -> int | None:
        if not text:
            return self.defaults.count
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if not number.is_integer():
            issues.append(
                _Issue(
                    "count",
                    "bad_count",
                    f"The count '{text}' is not a whole number of images; write a number like 2.",
                    {"value": text},
                )
            )
            return None
        return int(number)

    def _fit(
        self, image: PreparedImage, mask_png: bytes | None, provider: str, workflow: Operation
    ) -> tuple[PreparedImage, bytes | None]:
        # The same fit the page and the CLI make (photo and mask together); whatever cannot be
        # fitted, an unreadable mask included, is left as it is for check_job to report with the rest.
        try:
            return self.studio.fit_inputs(image, mask_png, provider, workflow)
        except StudioInputError:
            return image, mask_png

    def plan(self) -> BatchPlan:
        estimate = pricing.totals_by_currency(item.checked.estimate for item in self.items)
        by_provider: dict[str, list[Money | None]] = {}
        unpriced: dict[str, int] = {}
        images: dict[str, int] = {}
        for item in self.items:
            checked = item.checked
            images[checked.provider] = images.get(checked.provider, 0) + checked.count
            if checked.estimate is not None:
                by_provider.setdefault(checked.provider, []).append(checked.estimate)
                continue
            adapter = type(self.studio.adapters[checked.provider])
            price = pricing.price_for(adapter, checked.workflow, self.studio.price_overrides)
            if not price.free:
                unpriced[checked.provider] = unpriced.get(checked.provider, 0) + checked.count
        return BatchPlan(
            items=tuple(self.items),
            problems=tuple(sorted(self.problems, key=lambda problem: problem.row)),
            estimate=estimate,
            estimate_by_provider={
                provider: pricing.totals_by_currency(amounts) for provider, amounts in by_provider.items()
            },
            unpriced=unpriced,
            images_by_provider=images,
        )


def _column_for(exc: StudioInputError, request: JobRequest) -> str:
    """The manifest column a check_job error points at, so the table says what to fix."""
    if exc.code == "bad_param":
        detail = str(exc.params.get("detail") or exc)
        named = [
            (match.start(), name)
            for name in request.params
            if (match := re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", detail))
        ]
        return PARAM_PREFIX + min(named)[1] if named else ""
    if exc.code == "prompt_too_long":
        return "negative_prompt" if len(request.negative_prompt) > len(request.prompt) else "prompt"
    return _CODE_COLUMNS.get(exc.code, "")
