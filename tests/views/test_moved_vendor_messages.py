"""Messages adapters used to write inline read in Chinese on the History page.

Each failed job below stores what a real raise path says in English today (a DashScope
check before any call, the local engine's refusal, a stored photo that no longer fits,
a result link that cannot be downloaded); with the interface in Chinese, History shows
the Chinese of the same table entry and none of the English sentence.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from providers.base import GenerationRequest, Operation, ProviderContext
from providers.dashscope import MAX_SIDE, MIN_SIDE, DashScope
from providers.errors import ProviderError
from providers.fetch import ResultFetcher
from providers.local import LocalEngine
from providers.payload import payload_or_refuse
from studio.i18n import translate
from studio.jobs import JobStatus
from studio.service import Studio
from studio.store import NewJob
from tests.views.conftest import open_app

_HAN = re.compile(r"[\u4e00-\u9fff]")


def _png(side: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (side, side), (200, 80, 40, 255)).save(out, "PNG")
    return out.getvalue()


def _raised(call: object) -> ProviderError:
    assert callable(call)
    with pytest.raises(ProviderError) as caught:
        call()
    return caught.value


def _cases() -> list[tuple[str, ProviderError, str]]:
    """(job's provider, the error its raise path makes, the Chinese the page must show)."""
    dashscope = DashScope(ProviderContext(credentials={"api_key": "sk-test"}))
    no_guidance = _raised(
        lambda: dashscope.submit(GenerationRequest(operation=Operation.PROMPT_BACKGROUND, image=_png(100)))
    )
    local = LocalEngine(ProviderContext())
    swap = _raised(lambda: local.submit(GenerationRequest(operation=Operation.MODEL_SWAP, image=b"")))
    limits = DashScope.limits[Operation.PROMPT_BACKGROUND]
    too_small = _raised(
        lambda: payload_or_refuse(limits, _png(20), None, provider="dashscope", vendor="DashScope")
    )
    fetcher = ResultFetcher()
    try:
        not_a_link = _raised(lambda: fetcher.fetch("ftp://results.example/1.png"))
    finally:
        fetcher.close()
    small = {"size": "20x20", "provider": "DashScope", "min_side": MIN_SIDE, "max_side": MAX_SIDE}
    return [
        ("dashscope", no_guidance, translate("zh", "vendor.dashscope.no_guidance")),
        ("local", swap, translate("zh", "vendor.local.unsupported_workflow")),
        ("dashscope", too_small, translate("zh", "vendor.payload.refused:provider_too_small", **small)),
        ("aliyun_market", not_a_link, translate("zh", "vendor.download.not_a_link")),
    ]


def test_moved_messages_of_failed_jobs_read_in_chinese_in_history(studio: Studio) -> None:
    studio.worker.stop()  # the seeded jobs stay failed as stored
    cases = _cases()
    for number, (provider, error, _) in enumerate(cases):
        job_id = f"{number:x}" * 32
        studio.store.create_job(
            NewJob(
                job_id=job_id,
                workflow=Operation.PROMPT_BACKGROUND,
                provider=provider,
                input_path="jobs/x/input.png",
            )
        )
        assert studio.store.transition(
            job_id,
            [JobStatus.QUEUED],
            JobStatus.FAILED,
            error_code=error.code,
            error_message=error.user_message,
        )

    at = open_app("views/history.py", lang="zh")
    assert not at.exception
    shown = list(at.dataframe(key="history.table").value["error"])
    for _, error, chinese in cases:
        assert _HAN.search(chinese) and chinese in shown, error.user_message
        assert error.user_message not in shown  # the English sentence is gone from the Chinese page
