"""How values read on the page: workflow and status names, money, durations, dates.

Money is shown per currency and never summed across currencies; a job with no
cost reads "free" when its provider is free and "price not set" otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from studio.jobs import JobStatus
from studio.pricing import price_for
from studio.service import ProviderInfo, Studio
from ui.i18n import t, t_or

STATUS_COLOURS: dict[str, str] = {
    JobStatus.QUEUED: "gray",
    JobStatus.SUBMITTING: "blue",
    JobStatus.RUNNING: "blue",
    JobStatus.DOWNLOADING: "blue",
    JobStatus.SUCCEEDED: "green",
    JobStatus.FAILED: "red",
    JobStatus.CANCELED: "orange",
    JobStatus.PAUSED: "violet",
}


def workflow_label(workflow: str) -> str:
    return t_or(f"workflow.{workflow}", workflow)


def status_label(status: str) -> str:
    return t_or(f"status.{status}", status)


def provider_label(key: str, providers: Iterable[ProviderInfo] = ()) -> str:
    """The provider's name in the user's language; its own label when the table has none."""
    fallback = next((info.label for info in providers if info.key == key), key)
    return t_or(f"provider.{key}", fallback)


def free_providers(studio: Studio) -> frozenset[str]:
    """Providers whose every operation is free (the local engine): their jobs cost nothing."""
    return frozenset(
        key
        for key, adapter in studio.adapters.items()
        if all(price_for(type(adapter), operation).free for operation in type(adapter).operations)
    )


def cost_text(amount: str | None, currency: str | None, *, free: bool) -> str:
    if amount is not None and currency:
        return t("cost.amount", amount=amount, currency=currency)
    return t("cost.free") if free else t("cost.unknown")


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return t("duration.none")
    if seconds < 60:
        return t("duration.seconds", seconds=f"{seconds:.1f}")
    minutes, rest = divmod(int(round(seconds)), 60)
    return t("duration.minutes", minutes=minutes, seconds=rest)


def local_time(moment: datetime) -> datetime:
    """Stored times are UTC; show them in the server's local zone (the staff's office clock)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone()


def when_text(moment: datetime) -> str:
    return local_time(moment).strftime("%Y-%m-%d %H:%M:%S")


def elapsed_seconds(since: datetime, now: datetime | None = None) -> float:
    aware = since if since.tzinfo else since.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (current - aware).total_seconds())


def word_list(words: Sequence[object]) -> str:
    """Words joined the way the language lists them ("a, b" / "a、b"), or "none"."""
    return t("list.join").join(str(word) for word in words) if words else t("list.none")


def cutout_text(method: object, model: object = None, refinement: object = None) -> str:
    """How a job's cutout was made, for people: "AI model ISNet (Best) + matting", "your mask",
    "classical fallback: the AI model is missing". Jobs from before the model choice recorded
    only a method ("model", "classical") and read as they did."""
    if isinstance(model, str) and model:
        label = t_or(f"cutmodel.{model}", model)
        if isinstance(refinement, str) and refinement:
            return t(
                "method.model_named", model=label, refinement=t_or(f"refinement.{refinement}", refinement)
            )
        return t("method.model_only", model=label)
    text = str(method or "")
    special = {
        "classical (model missing)": "method.classical_missing",
        "classical (nothing found)": "method.classical_nothing",
    }
    if text in special:
        return t(special[text])
    return t_or(f"method.{text}", text)
