"""The built-in local engine (provider key `local`): offline cutout, backdrops, layout, shadows.

It has no generative model. A prompt is read through a documented vocabulary
(`providers.local_vocabulary`) and a scene is a recipe (`providers.local_scenes`);
both become a backdrop plus a composition spec, and the product's own pixels
are pasted back untouched, so the product is never redrawn.

Synchronous: `submit` does the whole job and returns the finished update. The
segmentation models and the CJK font arrive through `ProviderContext.resources`,
loaded once by `studio`: `"segmenter.isnet"` and `"segmenter.u2netp"` (None when the
file is missing or broken), `"cutout.default"` (the quality used when a job does not
choose one with the `cutout` option: "best" or "fast"), `"segmenter"` (that default's
model, for callers that give only one) and `"cjk_font"`. Each job records which model
and refinement made its cutout (`imaging.segmenters.cutout_record`) in its notes.
"""

from __future__ import annotations

import ctypes
import hashlib
import sys
from collections.abc import Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from imaging.backdrops import BackdropSpec, render_backdrop
from imaging.compose import ComposeSpec, Layout, ShadowSpec, compose_placed, prepare
from imaging.cutout import Segmenter, cut_out
from imaging.images import ImageInputError, LoadedImage, encode_png, load_image
from imaging.masks import load_mask
from imaging.scene import SceneError, SceneSpec, infer_viewpoint, place_product, render_scene
from imaging.segmenters import QUALITIES, cutout_record, model_for
from imaging.text import draw_title
from providers.base import (
    GenerationRequest,
    Limits,
    Operation,
    OptionSpec,
    OutputImage,
    Price,
    ProviderAdapter,
    ProviderContext,
    SceneInfo,
    Submitted,
    TaskState,
    TaskUpdate,
)
from providers.errors import InputRejectedError
from providers.local_scene_plan import (
    PAINTING_PROVIDERS,
    ScenePlan,
    Viewpoint,
    describe_plan,
    scene_spec,
    vary,
)
from providers.local_scenes import (
    SCENES,
    SceneRecipe,
    plate_recipe,
    render_scene_thumbnail,
    scene_by_id,
    scene_style,
)
from providers.local_vocabulary import PromptStyle, interpret_prompt

CAMERAS: tuple[str, ...] = ("eye_level", "three_quarter", "flat_lay")

_FREE = Price(per_image=None, source="built-in engine, runs on this machine", as_of="2026-11", free=True)

_SHARED_LIMITS = {
    "formats": frozenset({"JPEG", "PNG", "WEBP", "BMP"}),
    "min_side": 64,
    "max_side": 12_000,
    "mask_mode": "L",
}

_PLACEMENT_OPTIONS: tuple[OptionSpec, ...] = (
    # None: the studio's default (best when the ISNet model is installed, else fast).
    OptionSpec("cutout", "choice", None, "opt.cutout", choices=QUALITIES),
    OptionSpec("shadow", "choice", None, "opt.shadow", choices=("none", "contact", "drop")),
    OptionSpec("shadow_opacity", "float", None, "opt.shadow_opacity", 0.0, 1.0, 0.05),
    OptionSpec("shadow_softness", "float", None, "opt.shadow_softness", 0.0, 1.0, 0.05),
    OptionSpec("shadow_direction", "float", None, "opt.shadow_direction", 0.0, 360.0, 5.0),
    OptionSpec("reflection", "float", None, "opt.reflection", 0.0, 1.0, 0.05),
    OptionSpec("light_wrap", "float", None, "opt.light_wrap", 0.0, 1.0, 0.05),
    # The photographic scene's camera: None guesses it from the product photo's angle.
    OptionSpec("camera", "choice", None, "opt.camera", choices=CAMERAS),
)


# Every user message this adapter raises itself, for studio's translations (studio/vendor_texts.py);
# an image that cannot be read keeps imaging's own coded error.
ERROR_TEXTS: Mapping[str, str] = {
    "unsupported_workflow": (
        "The local engine cannot swap models; configure a cloud provider that offers it (Aidge)."
    ),
    # `{detail}` is imaging.scene's own sentence.
    "scene_failed": "The scene could not be made: {detail}",
    "scene_not_found": "There is no local scene '{scene}'. Pick one of: {known}.",
}


class LocalEngine(ProviderAdapter):
    key: ClassVar[str] = "local"
    label: ClassVar[str] = "Local engine (offline)"
    operations: ClassVar[frozenset[Operation]] = frozenset(
        {Operation.PROMPT_BACKGROUND, Operation.SCENE_BACKGROUND}
    )
    limits: ClassVar[Mapping[Operation, Limits]] = {
        Operation.PROMPT_BACKGROUND: Limits(
            **_SHARED_LIMITS,  # type: ignore[arg-type]
            min_count=1,
            max_count=4,
            default_count=2,
            takes_reference=True,
        ),
        Operation.SCENE_BACKGROUND: Limits(
            **_SHARED_LIMITS,  # type: ignore[arg-type]
            min_count=2,
            max_count=10,
            default_count=4,
            default_size=(800, 800),
        ),
    }
    options: ClassVar[Mapping[Operation, tuple[OptionSpec, ...]]] = {
        Operation.PROMPT_BACKGROUND: (
            OptionSpec("layout", "choice", "center", "opt.layout", choices=("keep", "center")),
            OptionSpec("fill", "float", 0.8, "opt.fill", 0.1, 1.0, 0.01),
            OptionSpec("margin", "float", 0.05, "opt.margin", 0.0, 0.3, 0.01),
            *_PLACEMENT_OPTIONS,
            OptionSpec("reference_blur", "float", 0.0, "opt.reference_blur", 0.0, 50.0, 1.0),
        ),
        Operation.SCENE_BACKGROUND: (
            OptionSpec("relayout", "bool", True, "opt.relayout"),
            OptionSpec("draw_title", "bool", False, "opt.draw_title"),
            *_PLACEMENT_OPTIONS,
        ),
    }
    prices: ClassVar[Mapping[Operation, Price]] = {
        Operation.PROMPT_BACKGROUND: _FREE,
        Operation.SCENE_BACKGROUND: _FREE,
    }
    # Two cores: one job at a time keeps the machine responsive; onnxruntime uses both.
    max_in_flight: ClassVar[int] = 1
    submit_qps: ClassVar[float] = 100.0
    poll_interval_hint: float = 0.0
    can_list_scenes: ClassVar[bool] = True
    error_texts: ClassVar[Mapping[str, str]] = ERROR_TEXTS

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        _keep_freed_memory()

    # ----------------------------------------------------------------- submit
    def submit(self, request: GenerationRequest) -> Submitted:
        if request.operation not in self.operations:
            raise InputRejectedError(self.key, "unsupported_workflow", self._says("unsupported_workflow"))
        image = self._load(request.image)
        user_mask = self._load_mask(request.mask, image) if request.mask else None
        segmenter, wanted = self._segmenter(request.params.get("cutout"))
        size = request.size or self.limits[request.operation].default_size or (image.width, image.height)
        params = dict(request.params)
        base_seed = request.seed if request.seed is not None else _stable_seed(request)

        notes: dict[str, Any] = {"output_size": list(size)}
        recipe: SceneRecipe | None = None
        if request.operation is Operation.SCENE_BACKGROUND:
            recipe = self._scene(request.scene_id, request)
            notes["scene"] = recipe.scene_id
        reference = self._load(request.reference_image).rgb if request.reference_image else None
        plate = self._plate(request)
        variants = [
            self._variant(
                request, params, recipe, reference, base_seed + index, index, notes if index == 0 else None
            )
            for index in range(request.count)
        ]

        # Flat backdrops do not depend on the cutout, so they are rendered on a second thread: the
        # first one beside the cutout's refinement (not beside the model, which already keeps
        # both cores busy and only slows down when it has to share them), each next one while
        # the current variant is composed and encoded. NumPy, OpenCV and zlib release the GIL.
        # A photographic set waits for the cutout (its camera follows the product photo's angle),
        # then the next variant's set renders while the current one is finished.
        # Big frames are memory-bound: two threads there only add peak memory, so they run inline.
        overlap = max(image.width * image.height, size[0] * size[1]) <= _OVERLAP_MAX_PIXELS
        pool: Executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="local-engine") if overlap else _Inline()
        )
        with pool:
            backdrops: list[Future[Any]] = []
            camera: list[Viewpoint] = []

            def render_next(*, after_cutout: bool = False) -> None:
                if len(backdrops) >= len(variants):
                    return
                variant = variants[len(backdrops)]
                if variant.scene is None:
                    backdrops.append(pool.submit(render_backdrop, variant.backdrop, size, variant.seed))
                elif after_cutout:
                    spec = scene_spec(
                        variant.scene, camera[0], size, variant.seed, plate=plate[0], plate_surface=plate[1]
                    )
                    backdrops.append(pool.submit(_render_set, spec, size, variant.seed))

            try:
                cutout = cut_out(image, user_mask=user_mask, segmenter=segmenter, on_segmented=render_next)
            except BaseException:
                for future in backdrops:
                    future.cancel()
                raise
            notes = {**cutout_record(cutout, wanted=wanted, ran=segmenter is not None), **notes}
            if any(variant.scene is not None for variant in variants):
                camera.append(self._camera(params, variants, cutout.rgba))
                _record_scenes(notes, variants, camera[0], plate)
            mask_png = pool.submit(encode_png, cutout.alpha)
            title_font = self.context.resources.get("cjk_font")
            outputs: list[OutputImage] = []
            for index, variant in enumerate(variants):
                render_next(after_cutout=True)  # the first one, if cut_out did not start it
                if variant.scene is None:
                    # Placement, shadow, reflection and wrap weights do not need the backdrop:
                    # worked out while it is still being rendered.
                    prepared = prepare(cutout.rgba, size, variant.compose)
                    backdrop = backdrops[index].result()
                    render_next(after_cutout=True)  # the next variant's, while this one is composed
                    rgb = compose_placed(prepared, backdrop).rgb
                    del backdrop, prepared
                else:
                    spec, canvas = backdrops[index].result()
                    render_next(after_cutout=True)
                    rgb = self._placed(canvas, cutout.rgba, spec, variant.seed)
                    del canvas
                if recipe is not None and params.get("draw_title") and request.product_title and title_font:
                    rgb = draw_title(rgb, request.product_title, title_font)
                outputs.append(
                    OutputImage(data=encode_png(rgb), seed=variant.seed, label=f"variant {index + 1}")
                )
            artifacts = {"mask": mask_png.result()}

        update = TaskUpdate(
            state=TaskState.SUCCEEDED,
            outputs=tuple(outputs),
            billed_images=0,
            artifacts=artifacts,
            notes=notes,
        )
        return Submitted(remote_id=None, update=update)

    def _variant(
        self,
        request: GenerationRequest,
        params: Mapping[str, Any],
        recipe: SceneRecipe | None,
        reference: np.ndarray | None,
        seed: int,
        index: int,
        notes: dict[str, Any] | None,
    ) -> _Variant:
        """What one variant looks like (a photographic set, or a flat backdrop and composition),
        from its seed; `notes`, when given, receives what the prompt was read as."""
        if recipe is not None:
            style = scene_style(recipe, seed)
            layout = style.compose.layout if params.get("relayout", True) else Layout(mode="keep")
        else:
            style = interpret_prompt(request.prompt, seed)
            layout = _user_layout(params)
            if notes is not None:
                notes.update(words_used=list(style.used), words_ignored=list(style.unknown))
                notes["reading"] = style.summary
                notes["reading_zh"] = style.summary_zh
        backdrop_spec = style.backdrop
        if reference is not None:
            backdrop_spec = BackdropSpec(
                kind="photo",
                colors=backdrop_spec.colors,
                photo=reference,
                photo_blur=float(params.get("reference_blur") or 0.0),
            )
        compose = _with_overrides(style, layout, params)
        plan = style.scene
        if request.plate is not None and plan is None and backdrop_spec.kind != "white":
            plan = scene_style(plate_recipe(), seed).scene
        # The photographic set replaces flat backdrops, except where the user asked for the flat
        # ones' behaviour: the product kept where it was in the photo, or a reference photo.
        if plan is None or layout.mode == "keep" or reference is not None:
            return _Variant(seed=seed, backdrop=backdrop_spec, compose=compose, scene=None)
        plan = _scene_overrides(plan, params, compose)
        fixed = plan.viewpoint is not None or params.get("camera") is not None
        return _Variant(
            seed=seed,
            backdrop=backdrop_spec,
            compose=compose,
            scene=vary(plan, seed, index, fixed_viewpoint=fixed),
        )

    def _camera(self, params: Mapping[str, Any], variants: list[_Variant], product: np.ndarray) -> Viewpoint:
        """The camera angle: the user's choice, else the prompt's, else the product photo's own."""
        chosen = params.get("camera")
        if chosen in CAMERAS:
            return chosen
        first = next(variant.scene for variant in variants if variant.scene is not None)
        if first is not None and first.viewpoint is not None:
            return first.viewpoint
        try:
            return infer_viewpoint(product)
        except SceneError:
            return "three_quarter"

    def _placed(self, canvas: Any, product: np.ndarray, spec: SceneSpec, seed: int) -> np.ndarray:
        try:
            return place_product(canvas, product, spec, seed).rgb
        except SceneError as exc:
            raise InputRejectedError(
                self.key, "scene_failed", self._says("scene_failed", detail=exc)
            ) from None

    def _plate(
        self, request: GenerationRequest
    ) -> tuple[np.ndarray | None, tuple[float, float, float, float] | None]:
        """The user's own backdrop photo (decoded) and its marked surface, when the job has one."""
        if request.plate is None:
            return None, None
        photo = self._load(request.plate.image).rgb
        return np.ascontiguousarray(photo), request.plate.surface

    # ------------------------------------------------------- catalogue, prompt
    def list_scenes(self, query: Mapping[str, Any]) -> tuple[SceneInfo, ...]:
        category = str(query.get("category") or "")
        language = str(query.get("language") or "en")
        return tuple(
            SceneInfo(
                scene_id=recipe.scene_id,
                name=recipe.name_zh if language == "zh" else recipe.name_en,
                category=recipe.category,
                thumbnail=_thumbnail_png(recipe.scene_id),
            )
            for recipe in SCENES
            if not category or recipe.category == category
        )

    def describe_prompt(
        self, prompt: str, language: str = "en"
    ) -> tuple[tuple[str, ...], tuple[str, ...], str, str | None]:
        """Words used and ignored, what the engine makes of them, and the place it can only
        approximate (a kitchen, a beach), if the prompt names one."""
        style = interpret_prompt(prompt, 0)
        summary = style.summary_zh if language == "zh" else style.summary
        place = style.scene.place if style.scene is not None and style.scene.approximated else None
        return style.used, style.unknown, summary, place

    # ---------------------------------------------------------------- helpers
    def _segmenter(self, quality: object) -> tuple[Segmenter | None, str | None]:
        """The model for the job's `cutout` quality (else the default), and that model's name."""
        resources = self.context.resources
        if quality is None and "segmenter.u2netp" not in resources:
            # A caller that hands over a single model (tests, benchmarks): that one, by its name.
            only: Segmenter | None = resources.get("segmenter")
            return only, getattr(only, "name", None)
        model = model_for(str(quality or resources.get("cutout.default") or "fast"))
        return resources.get(f"segmenter.{model}"), model

    def _load(self, data: bytes) -> LoadedImage:
        try:
            return load_image(data)
        except ImageInputError as exc:
            raise InputRejectedError(self.key, exc.code, str(exc)) from None

    def _load_mask(self, data: bytes, image: LoadedImage) -> np.ndarray:
        try:
            return load_mask(data, (image.width, image.height))
        except ImageInputError as exc:
            raise InputRejectedError(self.key, exc.code, str(exc)) from None

    def _scene(self, scene_id: str | None, request: GenerationRequest) -> SceneRecipe:
        if request.plate is not None and (scene_id or "").startswith("user:"):
            # The user's own backdrop, chosen as a scene: studio resolved it to the plate.
            return plate_recipe()
        try:
            return scene_by_id(scene_id or "")
        except KeyError:
            known = ", ".join(recipe.scene_id for recipe in SCENES)
            raise InputRejectedError(
                self.key, "scene_not_found", self._says("scene_not_found", scene=scene_id, known=known)
            ) from None


# Photo and output sizes up to which backdrops render on a second thread. Measured on the 2-core
# machine: at 1000-2000 px the job is 20-70 ms faster for ~50-140 MB more peak memory; at
# 3000x3000 it was slower (memory bandwidth) and 200 MB heavier.
_OVERLAP_MAX_PIXELS = 2048 * 2048


class _Inline(Executor):
    """An executor that runs each task at once, in the caller's thread."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed on through the future, as a thread pool would
            future.set_exception(exc)
        return future


@dataclass(frozen=True)
class _Variant:
    seed: int
    backdrop: BackdropSpec
    compose: ComposeSpec
    scene: ScenePlan | None = None


def _render_set(spec: SceneSpec, size: tuple[int, int], seed: int) -> tuple[SceneSpec, Any]:
    return spec, render_scene(spec, size, seed)


def _scene_overrides(plan: ScenePlan, params: Mapping[str, Any], compose: ComposeSpec) -> ScenePlan:
    """The user's explicit options on top of the prompt's scene: the shadow's direction is the
    light's, no shadow is a light too soft and weak to cast one, reflection is the table's gloss,
    and the size the product takes of the frame is its fill."""
    light = plan.light
    if params.get("shadow_direction") is not None:
        light = replace(light, azimuth_deg=float(params["shadow_direction"]))
    if params.get("shadow") == "none":
        light = replace(light, softness=1.0, strength=0.0)
    elif params.get("shadow_opacity") is not None:
        light = replace(light, strength=float(params["shadow_opacity"]))
    if params.get("shadow_softness") is not None:
        light = replace(light, softness=float(params["shadow_softness"]))
    gloss = plan.gloss
    if params.get("reflection") is not None:
        gloss = float(params["reflection"])
    fill = plan.product_fill
    if params.get("fill") is not None and compose.layout.mode == "center":
        # The flat layout's fill counts the product's whole box in the frame; a set leaves room
        # for the table in front and the wall above.
        fill = min(0.9, float(params["fill"]) * 0.9)
    viewpoint = params.get("camera") if params.get("camera") in CAMERAS else plan.viewpoint
    return replace(plan, light=light, gloss=gloss, product_fill=fill, viewpoint=viewpoint)


def _record_scenes(
    notes: dict[str, Any],
    variants: list[_Variant],
    camera: Viewpoint,
    plate: tuple[np.ndarray | None, tuple[float, float, float, float] | None],
) -> None:
    """What the job records of its sets: the first variant's scene, each variant's composition,
    and, when a place could only be approximated, which providers can paint it."""
    plans = [variant.scene for variant in variants if variant.scene is not None]
    notes["scene_plan"] = describe_plan(plans[0], camera)
    notes["scene_variants"] = [
        {
            "light_direction_deg": round(plan.light.azimuth_deg, 1),
            "product_fill": round(plan.product_fill, 3),
            "product_x": round(plan.product_x, 3),
            "horizon_shift": round(plan.horizon_shift, 3),
        }
        for plan in plans
    ]
    if plate[0] is not None:
        notes["scene_plan"]["plate"] = True
    elif plans[0].approximated and plans[0].place:
        notes["approximation"] = {"place": plans[0].place, "providers": list(PAINTING_PROVIDERS)}


# glibc mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks up to this size come from the heap and are reused: a 1000x1000 float RGB temporary is 12 MB.
_HEAP_BLOCK_LIMIT = 32 * 1024 * 1024
# Freed heap memory is handed back to the kernel only beyond this much.
_KEEP_FREE = 256 * 1024 * 1024
_allocator_tuned = False


def _keep_freed_memory() -> None:
    """Let glibc reuse freed image buffers instead of handing them back to the kernel straight away.

    A job allocates and frees dozens of image-sized temporaries. With glibc's defaults many of
    them are fresh mmaps (or the heap top is trimmed after a free), so each new temporary is
    page-faulted and zeroed by the kernel again: about 100 ms of a 1000x1000 job, more than the
    whole composition. Blocks above `_HEAP_BLOCK_LIMIT` (3000x3000 planes and images) still use
    mmap and go back at once, so the peak memory of big images does not grow. Process-wide, set
    once; a no-op where the C library is not glibc.
    """
    global _allocator_tuned
    if _allocator_tuned or not sys.platform.startswith("linux"):
        return
    _allocator_tuned = True
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return  # not glibc (musl, ...): nothing to tune
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, _HEAP_BLOCK_LIMIT)
    mallopt(_M_TRIM_THRESHOLD, _KEEP_FREE)


def _stable_seed(request: GenerationRequest) -> int:
    """Same inputs give the same variants, so a result can be reproduced from its job."""
    digest = hashlib.sha256(request.image + request.prompt.encode() + str(request.scene_id).encode())
    return int.from_bytes(digest.digest()[:4], "big") % 1_000_000


def _user_layout(params: Mapping[str, Any]) -> Layout:
    if params.get("layout") == "keep":
        return Layout(mode="keep")
    raw_margin = params.get("margin")
    margin = float(raw_margin) if raw_margin is not None else 0.05
    return Layout(
        mode="center",
        fill=float(params.get("fill") or 0.8),
        margins=(margin, margin, margin, margin),
    )


def _with_overrides(style: PromptStyle, layout: Layout, params: Mapping[str, Any]) -> ComposeSpec:
    """The style's suggestions, with every option the user set explicitly on top."""
    suggested = style.compose
    shadow = suggested.shadow
    shadow = ShadowSpec(
        kind=params.get("shadow") or shadow.kind,
        opacity=_pick(params, "shadow_opacity", shadow.opacity),
        softness=_pick(params, "shadow_softness", shadow.softness),
        direction_deg=_pick(params, "shadow_direction", shadow.direction_deg),
        distance=shadow.distance,
        color=shadow.color,
    )
    return ComposeSpec(
        layout=layout,
        shadow=shadow,
        reflection=_pick(params, "reflection", suggested.reflection),
        light_wrap=_pick(params, "light_wrap", suggested.light_wrap),
        tint=suggested.tint,
    )


def _pick(params: Mapping[str, Any], name: str, fallback: float) -> float:
    value = params.get(name)
    return fallback if value is None else float(value)


@lru_cache(maxsize=64)
def _thumbnail_png(scene_id: str) -> bytes:
    return encode_png(render_scene_thumbnail(scene_by_id(scene_id)))
