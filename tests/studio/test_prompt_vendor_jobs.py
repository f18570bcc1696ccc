"""Prompt-background vendors through the whole studio: settings from the environment, input hosting,
the worker, the store. Tencent reads inputs from links (hosted in a published folder or an S3 bucket on
loopback); DashScope takes a key alone and needs the product cut out."""

from __future__ import annotations

import io
import json
from pathlib import Path

import boto3
import numpy as np
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from providers.base import Money, Operation
from studio.jobs import JobFilter, JobStatus
from studio.service import StudioInputError
from tests.emulators.dashscope import DashScopeEmulator
from tests.emulators.static_files import StaticFolder
from tests.emulators.tencent_aiart import TencentAiartEmulator
from tests.studio.fakes import FakeClock
from tests.studio.vendors import (
    mask,
    open_studio,
    photo,
    prompt_request,
    real_time_clock,
    run_until_done,
    vendor_env,
)


def test_tencent_reads_inputs_from_the_published_folder_which_is_emptied_after_the_job(
    tencent: TencentAiartEmulator,
    dashscope: DashScopeEmulator,
    published: tuple[Path, StaticFolder],
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    folder, server = published
    env = {
        **vendor_env(tencent, dashscope, tmp_path / "data"),
        "STUDIO_PUBLISH_DIR": str(folder),
        "STUDIO_PUBLIC_BASE_URL": server.base_url + "/",
    }
    studio = open_studio(env, tmp_path, clock)
    try:
        job_id = studio.submit_job(prompt_request(studio, "tencent_aiart", mask_png=mask()))
        view = run_until_done(studio, clock, job_id)
        assert view.status is JobStatus.SUCCEEDED, view.error
        # The vendor fetched the photo and the mask from the folder's web server ...
        fetched = [path for path in server.gets if path.endswith(".png")]
        assert len(fetched) == 2
        body = tencent.requests[-1].body or {}
        assert body["ProductUrl"].startswith(server.base_url) and body["MaskUrl"].startswith(server.base_url)
        # ... and both files were removed when the job ended.
        assert list(folder.iterdir()) == []
        # The mask actually sent is kept with the job: Tencent's form, the product in alpha.
        assert view.used_mask_path
        sent = Image.open(tmp_path / "data" / view.used_mask_path)
        assert sent.mode == "RGBA" and sent.size == (800, 600)
        alpha = np.asarray(sent)[..., 3]
        assert alpha[300, 400] == 255 and alpha[10, 10] == 0
        # Notes say where inputs went, never the link itself.
        notes = json.dumps(view.notes)
        assert "input_host" in view.notes and server.base_url not in notes
        assert view.outputs and (tmp_path / "data" / view.outputs[0].path).is_file()
    finally:
        studio.close()


def test_tencent_reads_inputs_from_an_s3_bucket_through_presigned_links(
    tencent: TencentAiartEmulator,
    dashscope: DashScopeEmulator,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing-key-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret-access-key")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        s3.create_bucket(Bucket="inputs")
        env = {
            **vendor_env(tencent, dashscope, tmp_path / "data"),
            "STUDIO_S3_BUCKET": "inputs",
            "STUDIO_S3_ENDPOINT_URL": endpoint,
            "STUDIO_S3_REGION": "us-east-1",
            "STUDIO_S3_ADDRESSING": "path",
            "STUDIO_URL_TTL_S": "900",
        }
        studio = open_studio(env, tmp_path, clock)
        try:
            assert studio.test_hosting().ok
            job_id = studio.submit_job(prompt_request(studio, "tencent_aiart"))
            view = run_until_done(studio, clock, job_id)
            assert view.status is JobStatus.SUCCEEDED, view.error
            url = (tencent.requests[-1].body or {})["ProductUrl"]
            assert url.startswith(f"{endpoint}/inputs/inputs/") and "X-Amz-Expires=900" in url
            # The object is gone once the job is done; the signature never reached the job.
            assert s3.list_objects_v2(Bucket="inputs").get("KeyCount", 0) == 0
            assert "X-Amz-Signature" not in json.dumps(view.notes)
        finally:
            studio.close()
    finally:
        server.stop()


def test_a_url_only_vendor_without_hosting_is_refused_before_anything_is_stored(
    tencent: TencentAiartEmulator, dashscope: DashScopeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    studio = open_studio(vendor_env(tencent, dashscope, tmp_path / "data"), tmp_path, clock)
    try:
        assert studio.needs_hosting("tencent_aiart", Operation.PROMPT_BACKGROUND)
        assert not studio.needs_hosting("dashscope", Operation.PROMPT_BACKGROUND)
        with pytest.raises(StudioInputError) as caught:
            studio.submit_job(prompt_request(studio, "tencent_aiart"))
        assert caught.value.code == "needs_hosting"
        assert "STUDIO_S3_BUCKET" in str(caught.value) and "STUDIO_PUBLISH_DIR" in str(caught.value)
        assert studio.list_jobs(JobFilter()).total == 0
        assert tencent.requests == []
    finally:
        studio.close()


def test_a_hosting_failure_fails_the_job_without_calling_the_vendor(
    tencent: TencentAiartEmulator, dashscope: DashScopeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    folder = tmp_path / "public"
    folder.mkdir()
    env = {
        **vendor_env(tencent, dashscope, tmp_path / "data"),
        "STUDIO_PUBLISH_DIR": str(folder),
        "STUDIO_PUBLIC_BASE_URL": "http://127.0.0.1:9/",
    }
    studio = open_studio(env, tmp_path, clock)
    try:
        job_id = studio.submit_job(prompt_request(studio, "tencent_aiart"))
        folder.chmod(0o500)  # the web server's folder turns read-only under us
        try:
            view = run_until_done(studio, clock, job_id)
        finally:
            folder.chmod(0o700)
        if view.status is JobStatus.FAILED and view.error and view.error.code == "hosting_failed":
            assert "could not be shared with Tencent" in view.error.message
            assert tencent.requests == []
        else:  # running as root: the folder stays writable, so the vendor is asked and cannot fetch
            assert view.status is JobStatus.FAILED and view.error is not None, view
            assert list(folder.iterdir()) == []
    finally:
        studio.close()


def test_dashscope_gets_the_automatic_cutout_of_an_opaque_photo_and_charges_per_image(
    tencent: TencentAiartEmulator, dashscope: DashScopeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    studio = open_studio(vendor_env(tencent, dashscope, tmp_path / "data"), tmp_path, clock)
    try:
        job_id = studio.submit_job(prompt_request(studio, "dashscope", count=2))
        view = run_until_done(studio, clock, job_id)
        assert view.status is JobStatus.SUCCEEDED, view.error
        # The mask was made at submit time and stored with the job (History shows it).
        assert view.mask_path
        stored = np.asarray(Image.open(tmp_path / "data" / view.mask_path))
        assert stored[300, 400] == 255 and stored[10, 10] == 0
        # What DashScope got is kept too: the photo with the product in alpha.
        sent = Image.open(tmp_path / "data" / (view.used_mask_path or ""))
        assert (
            sent.mode == "RGBA" and np.asarray(sent)[300, 400, 3] == 255 and np.asarray(sent)[10, 10, 3] == 0
        )
        assert view.cost == Money(16, "CNY") and len(view.outputs) == 2
        assert all((o.width, o.height) == (800, 600) for o in view.outputs)
    finally:
        studio.close()


def test_a_reference_image_is_refused_by_a_vendor_that_takes_none(
    tencent: TencentAiartEmulator, dashscope: DashScopeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    folder = tmp_path / "public"
    folder.mkdir()
    env = {
        **vendor_env(tencent, dashscope, tmp_path / "data"),
        "STUDIO_PUBLISH_DIR": str(folder),
        "STUDIO_PUBLIC_BASE_URL": "http://127.0.0.1:9/",
    }
    studio = open_studio(env, tmp_path, clock)
    try:
        with pytest.raises(StudioInputError) as caught:
            studio.submit_job(prompt_request(studio, "tencent_aiart", reference_png=photo(400, 300)))
        assert caught.value.code == "reference_not_taken"
    finally:
        studio.close()


def test_compare_runs_one_job_per_provider_and_reports_the_one_that_cannot(
    tencent: TencentAiartEmulator, dashscope: DashScopeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    studio = open_studio(vendor_env(tencent, dashscope, tmp_path / "data"), tmp_path, clock)
    try:
        request = prompt_request(
            studio, "local", count=3, size=(800, 800), reference_png=photo(400, 300), mask_png=mask()
        )
        entries = studio.submit_comparison(
            request, ["local", "dashscope", "tencent_aiart"], {"dashscope": {"model_version": "v3"}}
        )
        assert [entry.provider for entry in entries] == ["local", "dashscope", "tencent_aiart"]
        refused = entries[2]
        assert refused.job_id is None and refused.error is not None and refused.error.code == "needs_hosting"
        views = {entry.provider: run_until_done(studio, clock, entry.job_id or "") for entry in entries[:2]}
        assert all(view.status is JobStatus.SUCCEEDED for view in views.values())
        # Each provider got the size, count and inputs it takes.
        assert [(o.width, o.height) for o in views["local"].outputs] == [(800, 800)] * 3
        assert views["local"].reference_path and views["local"].mask_path
        assert [(o.width, o.height) for o in views["dashscope"].outputs] == [(800, 600)] * 3
        submitted = dashscope.calls("submit")[-1].body
        assert submitted["parameters"]["model_version"] == "v3" and submitted["parameters"]["n"] == 3
    finally:
        studio.close()


def test_the_marketplace_needs_its_product_domain_as_well_as_the_appcode(
    tencent: TencentAiartEmulator, dashscope: DashScopeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    env = {**vendor_env(tencent, dashscope, tmp_path / "data"), "ALIYUN_MARKET_APPCODE": "appcode-0123"}
    studio = open_studio(env, tmp_path, clock)
    try:
        info = next(item for item in studio.providers() if item.key == "aliyun_market")
        assert not info.configured and info.missing_env == ("ALIYUN_BGREP_BASE_URL",)
        with pytest.raises(StudioInputError) as caught:
            studio.submit_job(prompt_request(studio, "aliyun_market"))
        assert caught.value.code == "provider_not_configured" and "ALIYUN_BGREP_BASE_URL" in str(caught.value)
    finally:
        studio.close()


def test_a_marketplace_job_gets_its_photo_and_black_and_white_mask_by_link(
    tencent: TencentAiartEmulator,
    dashscope: DashScopeEmulator,
    published: tuple[Path, StaticFolder],
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    from tests.emulators.aliyun_market import AliyunMarketEmulator

    folder, server = published
    with AliyunMarketEmulator("appcode-0123", queries_to_finish=2) as market:
        env = {
            **vendor_env(tencent, dashscope, tmp_path / "data"),
            "ALIYUN_MARKET_APPCODE": "appcode-0123",
            "ALIYUN_BGREP_BASE_URL": market.base_url,
            "STUDIO_ALLOW_PRIVATE_LINKS": "true",  # the emulator serves result links on 127.0.0.1
            "ALIYUN_BGREP_POLL_INTERVAL_S": "0.1",
            "ALIYUN_MARKET_PRICE_PROMPT": "0.20 CNY",
            "STUDIO_PUBLISH_DIR": str(folder),
            "STUDIO_PUBLIC_BASE_URL": server.base_url,
        }
        studio = open_studio(env, tmp_path, clock)
        try:
            job_id = studio.submit_job(
                prompt_request(studio, "aliyun_market", mask_png=mask(), count=2, params={"steps": "20"})
            )
            view = run_until_done(studio, clock, job_id)
            assert view.status is JobStatus.SUCCEEDED, view.error
            assert len(view.outputs) == 2 and view.cost == Money(40, "CNY")
            assert market.submits == 1 and list(folder.iterdir()) == []
            sent = Image.open(tmp_path / "data" / (view.used_mask_path or ""))
            assert sent.mode == "L" and set(np.unique(np.asarray(sent))) == {0, 255}
        finally:
            studio.close()


def test_edge_guides_made_from_element_pictures_reach_dashscope_and_stay_with_the_job(
    tencent: TencentAiartEmulator, dashscope: DashScopeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    from providers.base import EdgeGuide

    studio = open_studio(vendor_env(tencent, dashscope, tmp_path / "data"), tmp_path, clock)
    try:
        product = studio.prepare_image(photo(), "bottle.png")
        element = studio.prepare_image(photo(300, 200), "leaf.png")
        guide = studio.make_edge_guide(element, product)
        edge = Image.open(io.BytesIO(guide))
        assert edge.mode == "RGBA" and edge.size == (800, 600)
        guides = (EdgeGuide("foreground", guide, "a green leaf"), EdgeGuide("background", guide))
        job_id = studio.submit_job(prompt_request(studio, "dashscope", image=product, guides=guides))
        view = run_until_done(studio, clock, job_id)
        assert view.status is JobStatus.SUCCEEDED, view.error
        stored = view.notes["edge_guides"]
        assert [(item["layer"], item["prompt"]) for item in stored] == [
            ("foreground", "a green leaf"),
            ("background", ""),
        ]
        assert all((tmp_path / "data" / item["path"]).is_file() for item in stored)
        sent = dashscope.calls("submit")[-1].body["input"]["reference_edge"]
        assert sent["foreground_edge_prompt"] == ["a green leaf"] and len(sent["background_edge"]) == 1

        with pytest.raises(StudioInputError) as too_many:
            studio.submit_job(prompt_request(studio, "dashscope", image=product, guides=guides * 6))
        assert too_many.value.code == "too_many_guides"
        with pytest.raises(StudioInputError) as not_taken:
            studio.submit_job(prompt_request(studio, "local", image=product, guides=guides))
        assert not_taken.value.code == "guides_not_taken"
    finally:
        studio.close()


class _Crash(BaseException):
    """Stands for the process dying inside the vendor call: no handler of ours runs."""


def test_inputs_left_by_a_crashed_paid_call_are_removed_and_the_call_is_not_made_again(
    tencent: TencentAiartEmulator,
    dashscope: DashScopeEmulator,
    published: tuple[Path, StaticFolder],
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, server = published
    env = {
        **vendor_env(tencent, dashscope, tmp_path / "data"),
        "STUDIO_PUBLISH_DIR": str(folder),
        "STUDIO_PUBLIC_BASE_URL": server.base_url,
    }
    first = open_studio(env, tmp_path, clock)
    job_id = first.submit_job(prompt_request(first, "tencent_aiart", mask_png=mask()))

    def die(request: object) -> None:
        raise _Crash

    monkeypatch.setattr(first.adapters["tencent_aiart"], "submit", die)
    monkeypatch.setattr(first.worker.links, "release", lambda handles: None)  # the dead never clean up
    with pytest.raises(_Crash):
        first.run_pending()
    left = sorted(path.name for path in folder.iterdir())
    assert len(left) == 2  # photo and mask, published before the call
    first.store.close()

    second = open_studio(env, tmp_path, clock)
    try:
        clock.advance(120)  # the dead process's lease runs out
        view = run_until_done(second, clock, job_id)
        # The process died inside a paid call, which Tencent may have made and billed: the job is
        # not sent again, the user is told to check the console first ...
        assert view.status is JobStatus.FAILED and view.error is not None
        assert view.error.code == "interrupted_submit" and tencent.requests == []
        # ... and the dead attempt's published files are not left behind.
        assert list(folder.iterdir()) == []
    finally:
        second.close()


def test_what_a_vendor_cannot_honour_is_refused_before_a_job_exists(
    tencent: TencentAiartEmulator, dashscope: DashScopeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    studio = open_studio(vendor_env(tencent, dashscope, tmp_path / "data"), tmp_path, clock)
    try:
        with pytest.raises(StudioInputError) as sized:
            studio.submit_job(prompt_request(studio, "dashscope", size=(800, 800)))
        assert sized.value.code == "size_not_taken"
        with pytest.raises(StudioInputError) as empty:
            studio.submit_job(prompt_request(studio, "dashscope", prompt="  "))
        assert empty.value.code == "prompt_required" and "reference image" in str(empty.value)
        assert studio.list_jobs(JobFilter()).total == 0 and dashscope.submits() == 0
        # A reference image alone is guidance enough for DashScope.
        job_id = studio.submit_job(
            prompt_request(studio, "dashscope", prompt="", reference_png=photo(400, 300))
        )
        view = run_until_done(studio, clock, job_id)
        assert view.status is JobStatus.SUCCEEDED, view.error
        # The studio made the cutout for it, and says how.
        assert view.notes["cutout_method"].split(" + ")[0] in {"isnet", "u2netp"}
    finally:
        studio.close()


@pytest.fixture
def clock() -> FakeClock:
    return real_time_clock()
