"""Vendor options through the whole studio (issue 11): Tencent's AI mark and own logo, DashScope's
reference alpha and prompt budget, Aidge's photo by link when input hosting is set up."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from providers.aidge import API_SCENE_SUBMIT, Aidge
from providers.base import GenerationRequest, Limits, Operation
from studio.hosting import HostedFile, HostingError
from studio.input_links import HOSTED_NOTE, InputLinks
from studio.jobs import JobFilter, JobStatus
from studio.manifest import BatchDefaults, plan_from_manifest
from studio.prompt_budget import measure
from studio.service import JobRequest, StudioInputError
from tests.emulators.aidge import AidgeEmulator
from tests.emulators.dashscope import DashScopeEmulator
from tests.emulators.static_files import StaticFolder
from tests.emulators.tencent_aiart import TencentAiartEmulator
from tests.studio.fakes import FakeClock
from tests.studio.vendors import (
    DASHSCOPE_KEY,
    SECRET_ID,
    SECRET_KEY,
    hosting_env,
    open_studio,
    photo,
    prompt_request,
    real_time_clock,
    run_until_done,
)

AIDGE_KEY, AIDGE_SECRET = "options-aidge", "options-aidge-secret-0123"


def png(width: int, height: int, colour: tuple[int, ...] = (236, 236, 236), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def half_transparent(width: int = 300, height: int = 200) -> bytes:
    """A reference whose right half is transparent (it must not guide the background)."""
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[..., :3] = (30, 140, 60)
    rgba[:, : width // 2, 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def aidge() -> Iterator[AidgeEmulator]:
    with AidgeEmulator(AIDGE_KEY, AIDGE_SECRET, queries_to_finish=1) as emulator:
        yield emulator


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"STUDIO_DATA_DIR": str(tmp_path / "data"), "STUDIO_ALLOW_PRIVATE_LINKS": "true", **extra}


def tencent_env(tencent: TencentAiartEmulator) -> dict[str, str]:
    return {
        "TENCENTCLOUD_SECRET_ID": SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": SECRET_KEY,
        "TENCENT_AIART_ENDPOINT": tencent.endpoint,
        "TENCENT_AIART_PROTOCOL": "http",
    }


def logo_b64() -> str:
    return base64.b64encode(png(120, 48, (230, 20, 20, 200), "RGBA")).decode("ascii")


# ------------------------------------------------------------------ Tencent: the AI mark and the own logo
def test_a_tencent_job_keeps_the_ai_mark_by_default_and_sends_the_users_logo_in_its_box(
    tencent: TencentAiartEmulator,
    published: tuple[Path, StaticFolder],
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    env = environment(tmp_path, **tencent_env(tencent), **hosting_env(published))
    studio = open_studio(env, tmp_path, clock)
    try:
        plain = run_until_done(studio, clock, studio.submit_job(prompt_request(studio, "tencent_aiart")))
        assert plain.status is JobStatus.SUCCEEDED, plain.error
        assert plain.params["LogoAdd"] is True
        assert tencent.requests[-1].body["LogoAdd"] == 1  # type: ignore[index]

        request = prompt_request(
            studio, "tencent_aiart", params={"LogoImage": logo_b64(), "LogoRect": "20,30,240,96"}
        )
        view = run_until_done(studio, clock, studio.submit_job(request))
        assert view.status is JobStatus.SUCCEEDED, view.error
        body = tencent.requests[-1].body or {}
        assert body["LogoAdd"] == 1
        assert body["LogoParam"]["LogoRect"] == {"X": 20, "Y": 30, "Width": 240, "Height": 96}
        # The logo went inline: only the photo was published (and removed after the job).
        assert "LogoUrl" not in body["LogoParam"]
        assert Image.open(io.BytesIO(base64.b64decode(body["LogoParam"]["LogoImage"]))).size == (120, 48)
        assert list(published[0].iterdir()) == []
    finally:
        studio.close()


def test_a_logo_box_outside_the_output_is_refused_before_a_job_exists(
    tencent: TencentAiartEmulator,
    published: tuple[Path, StaticFolder],
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    studio = open_studio(
        environment(tmp_path, **tencent_env(tencent), **hosting_env(published)), tmp_path, clock
    )
    try:
        for changes in (
            {"params": {"LogoImage": logo_b64(), "LogoRect": "1200,0,100,50"}},  # the default 1280:1280
            {"params": {"LogoImage": logo_b64(), "LogoRect": "700,0,100,50"}, "size": (720, 1280)},
        ):
            with pytest.raises(StudioInputError) as caught:
                studio.submit_job(prompt_request(studio, "tencent_aiart", **changes))
            assert caught.value.code == "bad_param" and "LogoRect" in str(caught.value)
        assert studio.list_jobs(JobFilter(), 1, 10).total == 0
        assert tencent.requests == []
    finally:
        studio.close()


# ------------------------------------------------------------------ DashScope: reference alpha, prompt budget
def test_a_transparent_reference_reaches_dashscope_with_its_alpha(
    dashscope: DashScopeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    env = environment(
        tmp_path,
        DASHSCOPE_API_KEY=DASHSCOPE_KEY,
        DASHSCOPE_BASE_URL=dashscope.api_url,
        DASHSCOPE_POLL_INTERVAL_S="0.1",
    )
    studio = open_studio(env, tmp_path, clock)
    try:
        for reference, mode in ((half_transparent(), "RGBA"), (png(300, 200, (30, 140, 60)), "RGB")):
            job_id = studio.submit_job(prompt_request(studio, "dashscope", reference_png=reference))
            view = run_until_done(studio, clock, job_id)
            assert view.status is JobStatus.SUCCEEDED, view.error
            sent = [obj for key, obj in dashscope.objects.items() if "/reference-" in key][-1]
            image = Image.open(io.BytesIO(sent.data))
            assert image.format == "PNG" and image.mode == mode
            if mode == "RGBA":
                alpha = np.asarray(image.getchannel("A"))
                assert (alpha[:, :150] == 255).all() and (alpha[:, 150:] == 0).all()
    finally:
        studio.close()


def test_prompts_longer_than_dashscope_reads_are_warned_about_not_refused(
    dashscope: DashScopeEmulator, tencent: TencentAiartEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    env = environment(
        tmp_path,
        DASHSCOPE_API_KEY=DASHSCOPE_KEY,
        DASHSCOPE_BASE_URL=dashscope.api_url,
        **tencent_env(tencent),
    )
    studio = open_studio(env, tmp_path, clock)
    try:
        words = " ".join(["sky"] * 151)
        chinese = "白色大理石台面柔和的窗光" * 10  # 120 characters
        assert measure(words) == (151, 0) and measure(chinese) == (0, 120)
        assert measure("white 大理石 table, A-line don't") == (4, 3)

        assert studio.prompt_overflows("dashscope", Operation.PROMPT_BACKGROUND, "sky " * 150) == ()
        (long,) = studio.prompt_overflows("dashscope", Operation.PROMPT_BACKGROUND, words)
        assert (long.field, long.words, long.max_words, long.max_cjk_chars) == ("prompt", 151, 150, 100)
        assert "reads about the first 150 English words" in long.message("DashScope")
        (negative,) = studio.prompt_overflows("dashscope", Operation.PROMPT_BACKGROUND, "beach", chinese)
        assert negative.field == "negative_prompt" and negative.cjk_chars == 120
        # Mixed text spends both budgets: 80 words and 60 characters is more than all of it.
        mixed = " ".join(["sky"] * 80) + "白" * 60
        assert len(studio.prompt_overflows("dashscope", Operation.PROMPT_BACKGROUND, mixed)) == 1
        # Tencent refuses over 256 characters itself; it declares no silent budget.
        assert studio.prompt_overflows("tencent_aiart", Operation.PROMPT_BACKGROUND, words) == ()

        # A warning, not a refusal: the job is accepted as it is.
        job_id = studio.submit_job(prompt_request(studio, "dashscope", prompt=words))
        assert studio.get_job(job_id) is not None
    finally:
        studio.close()


# ------------------------------------------------------------------ Aidge: the photo by link
class _Host:
    """An InputHost double that keeps what was published (or fails)."""

    label = "test host"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.published: list[bytes] = []
        self.removed: list[str] = []

    def publish(self, data: bytes, *, suffix: str, content_type: str) -> HostedFile:
        if self.fail:
            raise HostingError("the bucket said no.")
        self.published.append(data)
        handle = f"inputs/{len(self.published)}.{suffix}"
        return HostedFile(url=f"https://cdn.example/{handle}", handle=handle, expires_at=None)

    def remove(self, handle: str) -> None:
        self.removed.append(handle)


def test_a_vendor_that_accepts_links_is_published_only_when_hosting_is_set_up() -> None:
    limits = Aidge.limits[Operation.SCENE_BACKGROUND]
    assert limits.accepts_urls and not limits.needs_urls
    request = GenerationRequest(Operation.SCENE_BACKGROUND, photo(), scene_id="mod003", count=2)

    unhosted = InputLinks(None)
    assert not unhosted.wants_links(limits)
    assert unhosted.publish(request, limits, "Aidge").request is request  # no hosting: bytes inline

    host = _Host()
    links = InputLinks(host)  # type: ignore[arg-type]
    assert links.wants_links(limits)
    published = links.publish(request, limits, "Aidge")
    assert published.request.image_url and published.request.image_url.startswith("https://cdn.example/")
    assert len(host.published) == 1 and published.notes[HOSTED_NOTE] == list(published.handles)
    links.release(published.handles)
    assert host.removed == list(published.handles)

    # A vendor that neither needs nor takes links is never published.
    assert not links.wants_links(Limits())


def test_when_optional_hosting_fails_the_photo_goes_inline_instead() -> None:
    limits = Aidge.limits[Operation.MODEL_SWAP]
    request = GenerationRequest(Operation.MODEL_SWAP, photo())
    published = InputLinks(_Host(fail=True)).publish(request, limits, "Aidge")  # type: ignore[arg-type]
    assert published.request is request and published.handles == ()


def test_an_aidge_job_sends_its_photo_by_link_when_hosting_is_set_up_and_removes_it_after(
    aidge: AidgeEmulator, published: tuple[Path, StaticFolder], tmp_path: Path, clock: FakeClock
) -> None:
    env = environment(
        tmp_path,
        AIDGE_ACCESS_KEY_NAME=AIDGE_KEY,
        AIDGE_ACCESS_KEY_SECRET=AIDGE_SECRET,
        AIDGE_API_BASE=aidge.base_url,
        AIDGE_POLL_INTERVAL_S="0.1",
        **hosting_env(published),
    )
    studio = open_studio(env, tmp_path, clock)
    try:
        request = JobRequest(
            workflow=Operation.SCENE_BACKGROUND,
            provider="aidge",
            image=studio.prepare_image(photo(700, 600), "bottle.png"),
            scene_id="mod002",
            size=(800, 800),
        )
        view = run_until_done(studio, clock, studio.submit_job(request))
        assert view.status is JobStatus.SUCCEEDED, view.error
        submit = [call for call in aidge.requests if call.api == API_SCENE_SUBMIT][-1]
        params = (submit.body or {})["requestParams"]
        assert "imageFileUrl" in params and "imgBase64" not in params
        assert any(path.endswith(".png") for path in published[1].gets)
        assert list(published[0].iterdir()) == []
    finally:
        studio.close()


# ------------------------------------------------------------------ manifests: param.LogoImage names a file
def test_a_manifest_names_the_logo_file_and_its_box_in_param_columns(
    tencent: TencentAiartEmulator,
    published: tuple[Path, StaticFolder],
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "mug.png").write_bytes(photo())
    (folder / "brand.png").write_bytes(png(120, 48, (230, 20, 20, 200), "RGBA"))
    (folder / "m.csv").write_text(
        "sku,image,prompt,param.LogoImage,param.LogoRect,param.LogoAdd\n"
        "MUG-1,mug.png,white marble,brand.png,10,20,240,96,\n"
        "MUG-2,mug.png,white marble,,,0\n"
        "MUG-3,mug.png,white marble,missing.png,,\n".replace("10,20,240,96", '"10,20,240,96"'),
        encoding="utf-8",
    )
    studio = open_studio(
        environment(tmp_path, **tencent_env(tencent), **hosting_env(published)), tmp_path, clock
    )
    try:
        defaults = BatchDefaults(Operation.PROMPT_BACKGROUND, "tencent_aiart")
        plan = plan_from_manifest(studio, folder / "m.csv", defaults)
        with_logo, without = plan.items
        assert with_logo.checked.params["LogoRect"] == "10,20,240,96"
        logo = Image.open(io.BytesIO(base64.b64decode(with_logo.checked.params["LogoImage"])))
        assert logo.size == (120, 48)
        assert without.checked.params["LogoAdd"] is False and without.checked.params["LogoImage"] == ""
        (problem,) = plan.problems
        assert (problem.row, problem.column) == (3, "param.LogoImage")
    finally:
        studio.close()


@pytest.fixture
def clock() -> FakeClock:
    return real_time_clock()
