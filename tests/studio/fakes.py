"""Fake providers and a fake clock for the studio tests.

`SyncFake` answers every submit with the final result (like the local engine
and Tencent); `AsyncFake` returns a task id and walks a scripted list of poll
states (like Aidge or DashScope). Both record every call so tests can assert
"submitted exactly once" and "polled the same remote id". Scripts may contain
exceptions, raised in order.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import ClassVar

from PIL import Image

from providers.base import (
    GenerationRequest,
    Limits,
    Money,
    Operation,
    OptionSpec,
    OutputImage,
    Price,
    ProviderAdapter,
    ProviderContext,
    Submitted,
    TaskFailure,
    TaskState,
    TaskUpdate,
)
from providers.errors import QuotaExhaustedError


def png_bytes(
    width: int = 96, height: int = 80, colour: tuple[int, int, int] = (200, 40, 30), mode: str = "RGB"
) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), colour if mode == "RGB" else colour[0]).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes(width: int = 96, height: int = 80) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


class FakeClock:
    """A clock tests move by hand: `clock()` returns seconds since the epoch."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


_LIMITS = {
    Operation.PROMPT_BACKGROUND: Limits(
        min_side=64,
        max_side=4000,
        min_count=1,
        max_count=4,
        default_count=1,
        mask_mode="L",
        takes_reference=True,
    ),
    Operation.SCENE_BACKGROUND: Limits(
        mask_mode="L",
        min_side=64,
        max_side=4000,
        min_count=1,
        max_count=4,
        default_count=2,
        output_sizes=((800, 800), (750, 1000)),
    ),
}
_OPTIONS = {
    Operation.PROMPT_BACKGROUND: (OptionSpec("strength", "float", 0.5, "opt.strength", 0.0, 1.0),),
    Operation.SCENE_BACKGROUND: (),
}
_PRICES = {
    Operation.PROMPT_BACKGROUND: Price(Money(8, "CNY"), source="test price", as_of="2026-11"),
    Operation.SCENE_BACKGROUND: Price(Money(5, "USD"), source="test price", as_of="2026-11"),
}


class SyncFake(ProviderAdapter):
    key: ClassVar[str] = "fake_sync"
    label: ClassVar[str] = "Fake sync"
    operations: ClassVar[frozenset[Operation]] = frozenset(_LIMITS)
    limits: ClassVar[Mapping[Operation, Limits]] = _LIMITS
    options: ClassVar[Mapping[Operation, tuple[OptionSpec, ...]]] = _OPTIONS
    prices: ClassVar[Mapping[Operation, Price]] = _PRICES
    max_in_flight: ClassVar[int] = 2
    submit_qps: ClassVar[float] = 100.0

    def __init__(self, context: ProviderContext | None = None) -> None:
        super().__init__(context or ProviderContext())
        self.submits: list[GenerationRequest] = []
        # Consumed one per submit: an exception is raised, a TaskUpdate is returned; empty -> success.
        self.script: list[Exception | TaskUpdate] = []
        self.billed_images: int | None = None

    def submit(self, request: GenerationRequest) -> Submitted:
        self.submits.append(request)
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, Exception):
                raise step
            return Submitted(remote_id=None, update=step)
        outputs = tuple(
            OutputImage(data=png_bytes(120, 100, (index * 40, 100, 50)), seed=(request.seed or 0) + index)
            for index in range(request.count)
        )
        update = TaskUpdate(
            TaskState.SUCCEEDED,
            outputs=outputs,
            billed_images=self.billed_images,
            artifacts={"mask": png_bytes(96, 80, (255, 255, 255), mode="L")},
            notes={"reading": "红色 背景"},
        )
        return Submitted(remote_id=None, update=update)


class FreeSyncFake(SyncFake):
    """A synchronous provider that charges nothing (like the local engine)."""

    key: ClassVar[str] = "fake_free"
    label: ClassVar[str] = "Fake free"
    prices: ClassVar[Mapping[Operation, Price]] = {
        operation: Price(per_image=None, source="free", as_of="2026", free=True) for operation in _LIMITS
    }


class AsyncFake(ProviderAdapter):
    key: ClassVar[str] = "fake_async"
    label: ClassVar[str] = "Fake async"
    operations: ClassVar[frozenset[Operation]] = frozenset(_LIMITS)
    limits: ClassVar[Mapping[Operation, Limits]] = _LIMITS
    options: ClassVar[Mapping[Operation, tuple[OptionSpec, ...]]] = _OPTIONS
    prices: ClassVar[Mapping[Operation, Price]] = _PRICES
    max_in_flight: ClassVar[int] = 2
    submit_qps: ClassVar[float] = 100.0
    poll_interval_hint: float = 2.0

    def __init__(self, context: ProviderContext | None = None) -> None:
        super().__init__(context or ProviderContext())
        self.submits: list[GenerationRequest] = []
        self.polls: list[str] = []
        self.submit_errors: list[Exception] = []
        # Poll answers per task, in order; the default walks queued -> running -> succeeded.
        self.plan: list[TaskState | Exception | TaskUpdate] = [
            TaskState.QUEUED,
            TaskState.RUNNING,
            TaskState.SUCCEEDED,
        ]
        self._progress: dict[str, int] = {}
        self.output_url: str | None = None

    def submit(self, request: GenerationRequest) -> Submitted:
        if self.submit_errors:
            raise self.submit_errors.pop(0)
        self.submits.append(request)
        return Submitted(remote_id=f"task-{len(self.submits)}")

    def poll(self, remote_id: str) -> TaskUpdate:
        self.polls.append(remote_id)
        step_index = self._progress.get(remote_id, 0)
        self._progress[remote_id] = step_index + 1
        step = self.plan[min(step_index, len(self.plan) - 1)]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, TaskUpdate):
            return step
        if step is TaskState.SUCCEEDED:
            output = (
                OutputImage(url=self.output_url)
                if self.output_url
                else OutputImage(data=png_bytes(200, 150), seed=7)
            )
            return TaskUpdate(TaskState.SUCCEEDED, outputs=(output,), billed_images=1)
        if step is TaskState.FAILED:
            return TaskUpdate(
                TaskState.FAILED, failure=TaskFailure("content_blocked", "The image was refused.")
            )
        return TaskUpdate(step)


class FailingAdapter(SyncFake):
    """Refuses every job for good: the CLI's "job failed" (exit 1) case."""

    key: ClassVar[str] = "failing"
    label: ClassVar[str] = "Failing provider"

    def submit(self, request: GenerationRequest) -> Submitted:
        raise QuotaExhaustedError(
            self.key, "quota_exhausted", "The account balance is used up; top it up and try again."
        )


class CredentialFake(SyncFake):
    """Needs an API key, to test the 'not configured' check."""

    key: ClassVar[str] = "needs_key"
    label: ClassVar[str] = "Needs key"

    @classmethod
    def required_credentials(cls) -> tuple[str, ...]:
        return ("api_key",)


class StuckAsync(AsyncFake):
    """A vendor task that never finishes: the CLI's --timeout case."""

    key: ClassVar[str] = "stuck"
    label: ClassVar[str] = "Stuck provider"
    poll_interval_hint: float = 0.2

    def __init__(self, context: ProviderContext | None = None) -> None:
        super().__init__(context)
        self.plan = [TaskState.RUNNING]
