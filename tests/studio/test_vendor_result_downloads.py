"""Every vendor through the whole studio when its result links fail: the job is billed once and
its results are fetched again, never the vendor called again. And result links on this machine's
own network are refused unless the setting for test servers allows them."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers.base import Money
from studio.jobs import JobStatus
from studio.service import Studio
from tests.emulators.aidge import AidgeEmulator
from tests.emulators.aliyun_market import AliyunMarketEmulator
from tests.emulators.dashscope import DashScopeEmulator
from tests.emulators.static_files import StaticFolder
from tests.emulators.tencent_aiart import TencentAiartEmulator
from tests.studio.fakes import FakeClock
from tests.studio.test_aidge_jobs import API_SCENE_SUBMIT, scene_request
from tests.studio.test_aidge_jobs import KEY as AIDGE_KEY
from tests.studio.test_aidge_jobs import SECRET as AIDGE_SECRET
from tests.studio.test_aidge_jobs import environment as aidge_environment
from tests.studio.vendors import (
    hosting_env,
    mask,
    open_studio,
    prompt_request,
    real_time_clock,
    run_until_done,
    vendor_env,
)


def hosted_env(
    tencent: TencentAiartEmulator,
    dashscope: DashScopeEmulator,
    published: tuple[Path, StaticFolder],
    data: Path,
) -> dict[str, str]:
    return {**vendor_env(tencent, dashscope, data), **hosting_env(published)}


def test_dashscope_results_that_fail_twice_are_fetched_again_after_one_task(
    tencent: TencentAiartEmulator, dashscope: DashScopeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    dashscope.fail_result_downloads(2)
    studio = open_studio(vendor_env(tencent, dashscope, tmp_path / "data"), tmp_path, clock)
    try:
        job_id = studio.submit_job(prompt_request(studio, "dashscope", count=2))
        view = run_until_done(studio, clock, job_id)
        assert view.status is JobStatus.SUCCEEDED, view.error
        assert len(view.outputs) == 2 and view.cost == Money(16, "CNY")
        assert len(dashscope.tasks) == 1 and dashscope.result_faults_served == 2
    finally:
        studio.close()


def test_tencent_large_result_by_link_that_fails_twice_is_one_paid_call(
    tencent: TencentAiartEmulator,
    dashscope: DashScopeEmulator,
    published: tuple[Path, StaticFolder],
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    tencent.fail_result_downloads(2)
    env = {
        **hosted_env(tencent, dashscope, published, tmp_path / "data"),
        "TENCENT_AIART_PRICE_PROMPT": "0.50 CNY",
    }
    studio = open_studio(env, tmp_path, clock)
    try:
        job_id = studio.submit_job(
            prompt_request(studio, "tencent_aiart", params={"Resolution": "2048:2048"})
        )
        view = run_until_done(studio, clock, job_id)
        assert view.status is JobStatus.SUCCEEDED, view.error
        assert [call.outcome for call in tencent.requests] == ["ok"]
        assert tencent.requests[0].body is not None and tencent.requests[0].body["RspImgType"] == "url"
        assert view.remote_id == tencent.requests[0].request_id
        assert view.cost == Money(50, "CNY") and tencent.result_faults_served == 2
        # Tencent found the product itself (no mask given); its mask link was fetched and kept too.
        assert view.outputs[0].width == 2048
    finally:
        studio.close()


def test_tencent_default_size_comes_back_inline_with_its_mask_and_no_link_to_lose(
    tencent: TencentAiartEmulator,
    dashscope: DashScopeEmulator,
    published: tuple[Path, StaticFolder],
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    tencent.fail_result_downloads(100)  # would break any link; none is used
    studio = open_studio(hosted_env(tencent, dashscope, published, tmp_path / "data"), tmp_path, clock)
    try:
        view = run_until_done(studio, clock, studio.submit_job(prompt_request(studio, "tencent_aiart")))
        assert view.status is JobStatus.SUCCEEDED, view.error
        assert tencent.requests[0].body is not None and tencent.requests[0].body["RspImgType"] == "base64"
        assert tencent.result_faults_served == 0
        # The vendor's own mask came back inline and is kept with the job.
        assert view.used_mask_path and (tmp_path / "data" / view.used_mask_path).is_file()
    finally:
        studio.close()


def test_marketplace_results_that_fail_twice_are_fetched_again_after_one_task(
    tencent: TencentAiartEmulator,
    dashscope: DashScopeEmulator,
    published: tuple[Path, StaticFolder],
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    with AliyunMarketEmulator("appcode-0123", queries_to_finish=2) as market:
        market.fail_result_downloads(2)
        env = {
            **hosted_env(tencent, dashscope, published, tmp_path / "data"),
            "ALIYUN_MARKET_APPCODE": "appcode-0123",
            "ALIYUN_BGREP_BASE_URL": market.base_url,
            "ALIYUN_BGREP_POLL_INTERVAL_S": "0.1",
            "ALIYUN_MARKET_PRICE_PROMPT": "0.20 CNY",
        }
        studio = open_studio(env, tmp_path, clock)
        try:
            job_id = studio.submit_job(prompt_request(studio, "aliyun_market", mask_png=mask()))
            view = run_until_done(studio, clock, job_id)
            assert view.status is JobStatus.SUCCEEDED, view.error
            assert market.submits == 1 and market.result_faults_served == 2
            assert view.cost == Money(20, "CNY")
        finally:
            studio.close()


def test_aidge_results_that_fail_twice_are_fetched_again_after_one_task(
    tmp_path: Path, clock: FakeClock
) -> None:
    with AidgeEmulator(AIDGE_KEY, AIDGE_SECRET, queries_to_finish=2) as emulator:
        emulator.fail_result_downloads(2)
        env = aidge_environment(emulator, tmp_path / "data", AIDGE_PRICE_SCENE="0.12 USD")
        studio = open_studio(env, tmp_path, clock)
        try:
            view = run_until_done(studio, clock, studio.submit_job(scene_request(studio, count=2)))
            assert view.status is JobStatus.SUCCEEDED, view.error
            assert emulator.submits(API_SCENE_SUBMIT) == 1 and emulator.result_faults_served == 2
            assert view.cost == Money(24, "USD") and len(view.outputs) == 2
        finally:
            studio.close()


def test_result_links_on_this_machine_are_refused_unless_the_setting_allows_them(
    tencent: TencentAiartEmulator, dashscope: DashScopeEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    env = vendor_env(tencent, dashscope, tmp_path / "data")
    del env["STUDIO_ALLOW_PRIVATE_LINKS"]
    studio: Studio = open_studio(env, tmp_path, clock)
    try:
        view = run_until_done(studio, clock, studio.submit_job(prompt_request(studio, "dashscope")))
        assert view.status is JobStatus.FAILED and view.error is not None
        assert view.error.code == "billed_result_lost" and "127.0.0.1" in view.error.message
        # The task was made and billed at the vendor; the cost stays with the job.
        assert view.cost == Money(8, "CNY") and len(dashscope.tasks) == 1
        assert dashscope.result_faults_served == 0
    finally:
        studio.close()


def test_marketplace_jobs_due_together_go_in_one_task_list_and_are_billed_each(
    tencent: TencentAiartEmulator,
    dashscope: DashScopeEmulator,
    published: tuple[Path, StaticFolder],
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    with AliyunMarketEmulator("appcode-0123", queries_to_finish=2) as market:
        env = {
            **hosted_env(tencent, dashscope, published, tmp_path / "data"),
            "ALIYUN_MARKET_APPCODE": "appcode-0123",
            "ALIYUN_BGREP_BASE_URL": market.base_url,
            "ALIYUN_BGREP_POLL_INTERVAL_S": "0.1",
            "ALIYUN_MARKET_PRICE_PROMPT": "0.20 CNY",
        }
        studio = open_studio(env, tmp_path, clock)
        try:
            prompts = ["beach at dawn", "marble counter", "moss and stones"]
            ids = [
                studio.submit_job(prompt_request(studio, "aliyun_market", prompt=prompt, count=n + 1))
                for n, prompt in enumerate(prompts)
            ]
            views = [run_until_done(studio, clock, job_id) for job_id in ids]
            assert market.submits == 1  # one call carried all three
            assert [view.status for view in views] == [JobStatus.SUCCEEDED] * 3
            assert [len(view.outputs) for view in views] == [1, 2, 3]
            assert [view.cost for view in views] == [Money(20, "CNY"), Money(40, "CNY"), Money(60, "CNY")]
            keys = {view.remote_id.partition("#")[0] for view in views if view.remote_id}
            assert len(keys) == 1 and len({view.remote_id for view in views}) == 3
            # Each job got its own sub-task's results: the counts above differ per job.
            [task] = market.tasks.values()
            assert sorted(sub.fields["positive_prompt"] for sub in task.subtasks) == sorted(prompts)
        finally:
            studio.close()


@pytest.fixture
def clock() -> FakeClock:
    return real_time_clock()
