"""Planning: one manifest row (or uploaded file) checked into a batch item or a list of problems.

`Planner` reads each row's workflow, size and count, reads its photo's header
(format and size: never the pixels), runs it through `Studio.check_job` (nothing
is written) and at the end sums the estimates per currency and provider into a
`BatchPlan`. An item keeps references to its files (`ItemSource`); the worker
prepares them just before the job's turn (`studio.worker_prepare`), so a plan of
100,000 rows holds small records, not images. Problems past MAX_PROBLEMS_KEPT are
counted, not kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from imaging.images import ImageInputError, image_size
from providers.base import Money, Operation
from studio import pricing
from studio.inputs import fit_described
from studio.manifest_base import (
    HEAD_BYTES,
    MAX_PROBLEMS_KEPT,
    PARAM_PREFIX,
    SIZE,
    WORKFLOWS,
    BatchDefaults,
    BatchItem,
    BatchPlan,
    Issue,
    ItemSource,
    RowProblem,
    Source,
)
from studio.safe_files import FileRefused
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


class Planner:
    """Turns rows into items and problems, and sums the estimates at the end."""

    def __init__(self, studio: Studio, defaults: BatchDefaults, problems: Iterable[RowProblem] = ()) -> None:
        self.studio = studio
        self.defaults = defaults
        self.items: list[BatchItem] = []
        self.problems: list[RowProblem] = []
        self.problem_total = 0
        self._skus: dict[str, int] = {}
        for found in problems:
            self._keep(found)

    def problem(self, row: int, sku: str, issue: Issue) -> None:
        self._keep(RowProblem(row, sku, issue.column, issue.code, issue.message, issue.params))

    def _keep(self, problem: RowProblem) -> None:
        self.problem_total += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(problem)

    def add(
        self,
        row: int,
        cells: Mapping[str, str],
        params: Mapping[str, str],
        image: Source | None,
        mask: Source | None,
        issues: list[Issue],
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
                Issue(
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

        described: PreparedImage | None = None
        if image is not None:
            try:
                described = self._describe(image)
            except StudioInputError as exc:
                issues.append(Issue.of("image", exc))

        request: JobRequest | None = None
        checked: CheckedJob | None = None
        if described is not None and workflow is not None and provider:
            if defaults.fit:
                described = self._fit(described, provider, workflow)
            request = JobRequest(
                workflow=workflow,
                provider=provider,
                image=described,
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
                if mask is not None and described is not None:
                    self._check_mask(mask, image, provider, workflow)
            except StudioInputError as exc:
                issues.append(Issue.of(_column_for(exc, request), exc))

        if sku:
            first = self._skus.setdefault(sku.casefold(), row)
            if first != row:
                issues.append(
                    Issue(
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
        elif request is not None and checked is not None and image is not None:
            source = ItemSource(image, mask, defaults.fit)
            self.items.append(BatchItem(row, sku, request, checked, source))

    def _describe(self, source: Source) -> PreparedImage:
        """The photo as its header tells it; a header longer than HEAD_BYTES is read whole."""
        try:
            head = source.head()
        except (FileRefused, OSError) as exc:
            raise StudioInputError("file_unreadable", f"The file cannot be read ({exc}).", {}) from None
        try:
            return self.studio.inputs.describe_image(head, source.name)
        except StudioInputError as exc:
            if exc.code not in ("corrupt", "empty") or len(head) < HEAD_BYTES:
                raise
        try:
            return self.studio.inputs.describe_image(source.read(), source.name)
        except FileRefused as exc:
            raise StudioInputError(exc.code, f"The file cannot be read ({exc.reason}).", {}) from None

    def _check_mask(self, mask: Source, image: Source | None, provider: str, workflow: Operation) -> None:
        """What a mask's header tells: that the provider takes one, that it is an image, and of the
        photo's size (empty or full masks are found when the worker prepares the item)."""
        limits = self.studio.catalogue.limits_for(provider, workflow)
        if limits.mask_mode is None:
            label = type(self.studio.adapters[provider]).label
            raise StudioInputError(
                "mask_not_taken",
                f"{label} finds the product itself and takes no mask; leave the mask out "
                "(in the CLI: drop --mask).",
                {"provider": label},
            )
        try:
            size = image_size(mask.head())
            photo = image_size(image.head()) if image is not None else size
        except (ImageInputError, FileRefused, OSError):
            raise StudioInputError("mask_corrupt", "The mask is not a readable image.", {}) from None
        if size != photo:
            exc = ImageInputError(
                "mask_size_mismatch",
                {"mask_w": size[0], "mask_h": size[1], "image_w": photo[0], "image_h": photo[1]},
            )
            raise StudioInputError(exc.code, str(exc), dict(exc.params))

    def _workflow(self, text: str, issues: list[Issue]) -> Operation | None:
        if not text:
            if self.defaults.workflow is None:
                issues.append(
                    Issue(
                        "workflow",
                        "missing_workflow",
                        "No workflow is given: write scene, prompt or model in the workflow column, "
                        "or choose one for the whole batch.",
                    )
                )
                return None
            return Operation(self.defaults.workflow)
        workflow = WORKFLOWS.get(text.strip().lower().replace(" ", "_").replace("-", "_"))
        if workflow is None:
            issues.append(
                Issue(
                    "workflow",
                    "bad_workflow",
                    f"The workflow '{text}' is not known; write scene, prompt or model.",
                    {"value": text},
                )
            )
        return workflow

    def _size(self, text: str, issues: list[Issue]) -> tuple[int, int] | None:
        if not text:
            return self.defaults.size
        match = SIZE.match(text)
        if match is None:
            issues.append(
                Issue(
                    "size",
                    "bad_size",
                    f"The size '{text}' is not width x height in pixels; write it like 1000x1000.",
                    {"value": text},
                )
            )
            return None
        return int(match.group(1)), int(match.group(2))

    def _count(self, text: str, issues: list[Issue]) -> int | None:
        if not text:
            return self.defaults.count
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if not number.is_integer():
            issues.append(
                Issue(
                    "count",
                    "bad_count",
                    f"The count '{text}' is not a whole number of images; write a number like 2.",
                    {"value": text},
                )
            )
            return None
        return int(number)

    def _fit(self, image: PreparedImage, provider: str, workflow: Operation) -> PreparedImage:
        # The photo as the worker's fit will make it (its sides; bytes are fitted on the real file);
        # whatever cannot be fitted is left as it is for check_job to report with the rest.
        try:
            limits = self.studio.catalogue.limits_for(provider, workflow)
        except StudioInputError:
            return image
        return fit_described(image, limits.max_side, limits.min_side)

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
            problem_total=self.problem_total,
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
