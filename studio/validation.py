"""Validation of a job against its provider's limits: every check `submit_job` makes, without
writing anything (batches check all their rows before a single job is created)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from imaging.images import ImageInputError, load_image
from providers.base import Limits, Operation, Price, ProviderAdapter
from providers.local import LocalEngine
from providers.local_scenes import SCENES as LOCAL_SCENES
from studio import pricing
from studio.backdrop_library import BackdropLibrary
from studio.backdrop_match import USER_SCENE_PREFIX, BackdropError, BackdropMatch
from studio.catalogue import Catalogue
from studio.errors import StudioInputError
from studio.inputs import Inputs
from studio.prompt_budget import PromptOverflow, prompt_overflows
from studio.values import (
    MAX_OUTPUT_SIDE,
    MAX_PROMPT_CHARS,
    MIN_OUTPUT_SIDE,
    WORKFLOW_WORDS,
    CheckedJob,
    JobRequest,
)


class JobChecker:
    def __init__(
        self,
        catalogue: Catalogue,
        inputs: Inputs,
        backdrops: BackdropLibrary,
        *,
        price_overrides: Mapping[tuple[str, Operation], Price],
    ) -> None:
        self._catalogue = catalogue
        self._inputs = inputs
        self._backdrops = backdrops
        self._prices = price_overrides

    def check_job(self, request: JobRequest) -> CheckedJob:
        """Every check `submit_job` makes, without writing anything: for batches, which validate
        all their rows before a single job is created. Raises StudioInputError."""
        catalogue, inputs = self._catalogue, self._inputs
        adapter = catalogue.adapter(request.provider)
        cls = type(adapter)
        catalogue.require_configured(cls)
        workflow = Operation(request.workflow)
        limits = catalogue.operation_limits(cls, workflow)
        raw_params, count, title = apply_aliases(cls, workflow, request)
        # Which backdrop of the user's library: studio decides it, it is no adapter option.
        backdrop_choice = raw_params.pop("backdrop_id", None)
        if request.cutout_quality is not None:
            quality = inputs.cutout_quality(request.cutout_quality)
            if cls is LocalEngine and "cutout" not in raw_params:
                raw_params = {**raw_params, "cutout": quality}
        count = limits.default_count if count is None else count
        _check_count(cls, workflow, limits, count)
        size = _check_size(cls, limits, request.size)
        fit = inputs.check_image_fit(request.image, cls.key, workflow)
        if fit.problems:
            raise fit.problems[0]
        try:
            params = cls.check_params(workflow, raw_params)
            cls.check_output(workflow, params, size)
        except ValueError as exc:
            raise StudioInputError(
                "bad_param", f"{exc}. Fix the option and try again.", {"detail": str(exc)}
            ) from None
        if workflow is Operation.SCENE_BACKGROUND:
            _check_scene(adapter, request.scene_id)
        backdrop = self._backdrop_for(adapter, workflow, request, backdrop_choice)
        if backdrop is not None and backdrop.how == "chosen":
            params = {**params, "backdrop_id": backdrop.backdrop.backdrop_id}
        elif str(backdrop_choice or "").strip().casefold() == "none" and isinstance(adapter, LocalEngine):
            params = {**params, "backdrop_id": "none"}
        if len(request.prompt) > MAX_PROMPT_CHARS or len(request.negative_prompt) > MAX_PROMPT_CHARS:
            raise StudioInputError(
                "prompt_too_long",
                f"The prompt is longer than {MAX_PROMPT_CHARS} characters. Shorten it and try again.",
                {"max": MAX_PROMPT_CHARS},
            )
        if request.seed is not None and not 0 <= request.seed < 2**31:
            raise StudioInputError(
                "bad_seed",
                f"The seed {request.seed} must be between 0 and {2**31 - 1}.",
                {"seed": request.seed},
            )
        if request.mask_png and limits.mask_mode is None:
            raise StudioInputError(
                "mask_not_taken",
                f"{cls.label} finds the product itself and takes no mask; leave the mask out "
                "(in the CLI: drop --mask).",
                {"provider": cls.label},
            )
        if limits.needs_urls and catalogue.input_host is None:
            raise StudioInputError(
                "needs_hosting",
                f"{cls.label} reads images only from web links, and no input hosting is set up. Set "
                "STUDIO_S3_BUCKET (an S3-compatible bucket) or STUDIO_PUBLISH_DIR with "
                "STUDIO_PUBLIC_BASE_URL; the Settings page explains both.",
                {"provider": cls.label},
            )
        if request.size is not None and not limits.takes_size:
            raise StudioInputError(
                "size_not_taken",
                f"{cls.label} makes its results at the photo's own size and takes no output size; "
                "leave the size out (in the CLI: drop --size), or resize the photo first.",
                {"provider": cls.label},
            )
        has_reference = bool(request.reference_png) and limits.takes_reference
        if limits.needs_prompt and not request.prompt.strip() and not has_reference:
            raise StudioInputError(
                "prompt_required",
                f"{cls.label} needs a description of the new background"
                + (" (or a reference image)." if limits.takes_reference else ".")
                + " Write one and try again.",
                {"provider": cls.label},
            )
        if request.reference_png and not limits.takes_reference:
            raise StudioInputError(
                "reference_not_taken",
                f"{cls.label} takes no reference image; remove it (in the CLI: drop --reference) "
                "or choose a provider that uses one.",
                {"provider": cls.label},
            )
        _check_guides(cls, limits, request)
        mask_png = inputs.prepare_mask(request.mask_png, request.image) if request.mask_png else None
        if mask_png is not None and limits.mask_mode is not None:
            # The mask in the vendor's form has limits of its own (e.g. a cap on its base64 size).
            with_mask = inputs.check_image_fit(request.image, cls.key, workflow, mask_png)
            if with_mask.problems:
                raise with_mask.problems[0]
        reference_png = inputs.reference_png(request.reference_png) if request.reference_png else None
        return CheckedJob(
            provider=cls.key,
            workflow=workflow,
            params=params,
            count=count,
            size=size,
            title=title,
            mask_png=mask_png,
            reference_png=reference_png,
            estimate=pricing.estimate(cls, workflow, count, self._prices),
            backdrop=backdrop,
        )

    def _backdrop_for(
        self, adapter: ProviderAdapter, workflow: Operation, request: JobRequest, choice: object
    ) -> BackdropMatch | None:
        """The user's backdrop this job is placed on (`BackdropLibrary.resolve`); local engine only."""
        try:
            return self._backdrops.resolve(
                local=isinstance(adapter, LocalEngine),
                provider_label=type(adapter).label,
                scene=workflow is Operation.SCENE_BACKGROUND,
                scene_id=request.scene_id,
                prompt=request.prompt,
                choice=choice,
            )
        except BackdropError as exc:
            raise StudioInputError(exc.code, str(exc), exc.params) from None

    def prompt_overflows(
        self, provider: str, workflow: Operation, prompt: str, negative_prompt: str = ""
    ) -> tuple[PromptOverflow, ...]:
        """Prompts longer than the vendor reads (it ignores the rest): for a warning, not a refusal."""
        return prompt_overflows(self._catalogue.limits_for(provider, workflow), prompt, negative_prompt)


def apply_aliases(
    cls: type[ProviderAdapter], workflow: Operation, request: JobRequest
) -> tuple[dict[str, Any], int | None, str]:
    """Vendor field names that are canonical fields (`--param imageNum=6`) become those fields."""
    aliases = cls.param_aliases.get(workflow, {})
    params = dict(request.params)
    count, title = request.count, request.product_title
    for name in [name for name in params if name in aliases]:
        value = params.pop(name)
        if aliases[name] == "count":
            try:
                number = int(str(value).strip())
            except ValueError:
                raise StudioInputError(
                    "bad_param",
                    f"{name}: '{value}' is not a whole number. Fix the option and try again.",
                    {"detail": f"{name}: '{value}' is not a whole number"},
                ) from None
            if count is not None and count != number:
                raise StudioInputError(
                    "bad_param",
                    f"{name}={number} contradicts --count {count}; give the number of images once.",
                    {"detail": f"{name}={number} contradicts count {count}"},
                )
            count = number
        elif aliases[name] == "product_title":
            title = str(value)
    return params, count, title


def _check_guides(cls: type[ProviderAdapter], limits: Limits, request: JobRequest) -> None:
    if not request.guides:
        return
    if limits.max_guides == 0:
        raise StudioInputError(
            "guides_not_taken",
            f"{cls.label} takes no edge guides; remove them (in the CLI: drop --guide).",
            {"provider": cls.label},
        )
    if len(request.guides) > limits.max_guides:
        raise StudioInputError(
            "too_many_guides",
            f"{cls.label} takes at most {limits.max_guides} edge guides (front and back together); "
            f"you gave {len(request.guides)}. Remove some.",
            {"provider": cls.label, "max": limits.max_guides, "count": len(request.guides)},
        )
    for number, guide in enumerate(request.guides, 1):
        if guide.layer not in ("foreground", "background"):
            raise StudioInputError(
                "bad_guide",
                f"Edge guide {number} must go in front of the product (foreground) or behind it "
                f"(background), not '{guide.layer}'.",
                {"number": number},
            )
        if len(guide.prompt) > MAX_PROMPT_CHARS:
            raise StudioInputError(
                "prompt_too_long",
                f"The prompt of edge guide {number} is longer than {MAX_PROMPT_CHARS} characters.",
                {"max": MAX_PROMPT_CHARS},
            )
        try:
            loaded = load_image(guide.image)
        except ImageInputError:
            loaded = None
        if loaded is None or not loaded.has_alpha:
            raise StudioInputError(
                "bad_guide",
                f"Edge guide {number} is not a transparent PNG. Make it from an element picture "
                "(Prompt background page, or --guide in the CLI).",
                {"number": number},
            )


def _check_count(cls: type[ProviderAdapter], workflow: Operation, limits: Limits, count: int) -> None:
    if not limits.min_count <= count <= limits.max_count:
        raise StudioInputError(
            "bad_count",
            f"{cls.label} makes {limits.min_count} to {limits.max_count} images per job for "
            f"{WORKFLOW_WORDS[workflow]}; you asked for {count}. Choose a number in that range.",
            {"count": count, "min": limits.min_count, "max": limits.max_count},
        )


def _check_size(
    cls: type[ProviderAdapter], limits: Limits, size: tuple[int, int] | None
) -> tuple[int, int] | None:
    if size is None:
        return limits.default_size
    width, height = size
    if not (MIN_OUTPUT_SIDE <= width <= MAX_OUTPUT_SIDE and MIN_OUTPUT_SIDE <= height <= MAX_OUTPUT_SIDE):
        raise StudioInputError(
            "bad_size",
            f"The output size {width}x{height} is not possible: each side must be "
            f"{MIN_OUTPUT_SIDE} to {MAX_OUTPUT_SIDE} pixels.",
            {"width": width, "height": height, "min": MIN_OUTPUT_SIDE, "max": MAX_OUTPUT_SIDE},
        )
    if limits.output_sizes is not None and (width, height) not in limits.output_sizes:
        allowed = ", ".join(f"{w}x{h}" for w, h in limits.output_sizes)
        raise StudioInputError(
            "bad_size",
            f"{cls.label} renders only these sizes: {allowed}; choose one of them instead of {width}x{height}.",
            {"width": width, "height": height, "allowed": allowed},
        )
    return (width, height)


def _check_scene(adapter: ProviderAdapter, scene_id: str | None) -> None:
    if not scene_id:
        raise StudioInputError(
            "missing_scene", "Choose a scene for a scene background (in the CLI: --scene ID).", {}
        )
    if isinstance(adapter, LocalEngine) and not scene_id.startswith(USER_SCENE_PREFIX):
        # The recipe ids, not list_scenes(): that renders every thumbnail just to check a name.
        # A `user:<id>` scene is one of the user's backdrops, found by `_backdrop_for`.
        known = [recipe.scene_id for recipe in LOCAL_SCENES]
        if scene_id not in known:
            raise StudioInputError(
                "scene_not_found",
                f"There is no local scene '{scene_id}'. Pick one of: {', '.join(known)}.",
                {"scene_id": scene_id, "known": ", ".join(known)},
            )
