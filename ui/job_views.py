"""Job cards and result galleries, shared by every generate page and History.

A pending job is drawn inside a fragment that reruns every second and asks the
store for the job again; once the job is finished the fragment reruns the whole
page, which then draws the finished card without any timer, so a page with no
pending job never polls. Images are read from the job's files on disk; downloads
are built only when clicked.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import streamlit as st

from studio.jobs import JobOutput, JobStatus, JobView
from studio.scene_labels import Part, scene_label
from studio.service import Studio
from ui.formatting import (
    STATUS_COLOURS,
    cost_text,
    cutout_text,
    duration_text,
    elapsed_seconds,
    free_providers,
    provider_label,
    status_label,
    when_text,
    workflow_label,
)
from ui.i18n import current_language, job_error_text, t, t_or, tkey
from ui.plain import plain
from ui.result_viewer import result_viewer
from ui.stored_files import file_bytes, image_source

REFRESH_SECONDS = 1.0


def job_panel(
    studio: Studio, job_id: str | None, *, key_prefix: str, per_row: int = 4, viewer: bool = False
) -> None:
    """The card for the job a page just submitted: live while pending, a gallery when done.

    `viewer` opens the finished images in the large result viewer (before/after, 100 % zoom)
    above the gallery; the create pages ask for it, narrow comparison columns do not.
    """
    if not job_id:
        return
    job = studio.get_job(job_id)
    if job is None:
        st.warning(t("job.missing"), icon=":material/help:")
        return
    if job.is_pending:
        _pending_card(studio, job_id)
    else:
        finished_card(studio, job, key_prefix=key_prefix, per_row=per_row, viewer=viewer)


# The steps a pending job goes through, as the user sees them: waiting, making, fetching.
_PENDING_STEPS: dict[str, tuple[int, str]] = {
    JobStatus.QUEUED: (1, tkey("first_hour.progress.queued")),
    JobStatus.SUBMITTING: (2, tkey("first_hour.progress.running")),
    JobStatus.RUNNING: (2, tkey("first_hour.progress.running")),
    JobStatus.DOWNLOADING: (3, tkey("first_hour.progress.downloading")),
}


def pending_step(status: str) -> tuple[int, int, str]:
    """(step, number of steps, text key) for a pending job's status."""
    step, key = _PENDING_STEPS.get(str(status), (1, tkey("first_hour.progress.queued")))
    return step, len({number for number, _ in _PENDING_STEPS.values()}), key


@st.fragment(run_every=REFRESH_SECONDS)
def _pending_card(studio: Studio, job_id: str) -> None:
    job = studio.get_job(job_id)
    if job is None or not job.is_pending:
        # Redraw the whole page once: the finished card has no timer, and the sidebar count updates.
        st.rerun(scope="app")
        return
    with st.container(border=True):
        _card_header(studio, job)
        with st.status(t(f"job.pending.{job.status}"), state="running", expanded=True):
            step, steps, what = pending_step(job.status)
            st.progress(
                (step - 0.5) / steps, text=t("first_hour.progress.step", step=step, steps=steps, what=t(what))
            )
            st.caption(t("job.pending_for", seconds=int(elapsed_seconds(job.created_at))))
            retry = download_retry_text(job)
            if retry:
                st.caption(retry)
            st.caption(t("job.pending_hint"))


def watch_pending(studio: Studio, job_ids: tuple[str, ...]) -> None:
    """While any of these jobs is pending, check every second and redraw the page when one ends."""
    if job_ids:
        _watch(studio, job_ids)


@st.fragment(run_every=REFRESH_SECONDS)
def _watch(studio: Studio, job_ids: tuple[str, ...]) -> None:
    for job_id in job_ids:
        job = studio.get_job(job_id)
        if job is None or not job.is_pending:
            st.rerun(scope="app")
            return
    st.caption(t("history.refreshing", count=len(job_ids)))


def finished_card(
    studio: Studio, job: JobView, *, key_prefix: str, per_row: int = 4, viewer: bool = False
) -> None:
    with st.container(border=True):
        _card_header(studio, job)
        if job.status == JobStatus.FAILED:
            message = job.error.message if job.error else t("job.failed_unknown")
            code = job.error.code if job.error else "unknown"
            st.error(plain(job_error_text(job.provider, code, message)), icon=":material/error:")
            return
        if job.status == JobStatus.PAUSED:
            st.info(t("job.paused"), icon=":material/pause_circle:")
            return
        if job.status == JobStatus.CANCELED:
            st.warning(t("job.canceled"), icon=":material/cancel:")
            return
        if viewer:
            result_viewer(job, key_prefix=key_prefix)
        # Under the large viewer the gallery is the row of all variants with their downloads: small,
        # and without its own before/after switch (the viewer's is the one way to compare).
        gallery(
            job,
            key_prefix=key_prefix,
            per_row=max(per_row, 4) if viewer else per_row,
            compact=viewer,
            compare=not viewer,
        )


def _card_header(studio: Studio, job: JobView) -> None:
    providers = studio.providers()
    heading = t(
        "job.heading",
        workflow=workflow_label(job.workflow),
        provider=provider_label(job.provider, providers),
        count=job.count,
        short_id=job.job_id[:8],
    )
    # An inline badge wraps with the text instead of being squeezed into a narrow column.
    line = f":{_badge_colour(job.status)}-badge[{status_label(job.status)}] {heading}"
    st.markdown(line)
    if not job.is_pending:
        free = job.provider in free_providers(studio)
        cost = cost_text(
            job.cost.as_str() if job.cost else None, job.cost.currency if job.cost else None, free=free
        )
        method = job.notes.get("cutout_method")
        facts = t(
            "job.facts", when=when_text(job.created_at), duration=duration_text(job.duration_s), cost=cost
        )
        if isinstance(method, str):
            facts = t("job.facts_method", facts=facts, method=_cutout(job))
        st.caption(facts)
        missing = job.notes.get("cutout_model_missing")
        if isinstance(missing, str) and job.status == JobStatus.SUCCEEDED:
            st.warning(
                t("job.cutout_missing", model=t_or(f"cutmodel.{missing}", missing), model_key=missing),
                icon=":material/warning:",
            )


def _cutout(job: JobView) -> str:
    notes = job.notes
    return cutout_text(notes.get("cutout_method"), notes.get("cutout_model"), notes.get("cutout_refinement"))


def download_retry_text(job: JobView) -> str | None:
    """For a billed job whose result link failed: why, and until when it is tried again."""
    if job.status != JobStatus.DOWNLOADING or job.error is None or job.error.code != "download_pending":
        return None
    expires = job.result_expires_at
    until = f"{expires:%Y-%m-%d %H:%M}" if expires else "?"
    return t("job.download_retry", detail=plain(job.error.message), until=until)


def _badge_colour(status: str) -> Any:
    return STATUS_COLOURS.get(status, "gray")


def gallery(
    job: JobView, *, key_prefix: str, per_row: int = 4, compact: bool = False, compare: bool = True
) -> None:
    """Each variant with its download; with `compare`, a switch shows the original photo beside it
    (where no result viewer offers before/after: History, the comparison columns).

    `compact` keeps `per_row` columns however few variants there are (thumbnails, not large images).
    """
    if not job.outputs:
        st.info(t("gallery.empty"), icon=":material/image_not_supported:")
        return
    before_after = False
    if compare:
        # In a narrow card (a comparison column) the two tools stack, so neither label is cut off.
        tools = (
            st.columns(2, vertical_alignment="center") if per_row > 1 else [st.container(), st.container()]
        )
        before_after = tools[0].toggle(t("gallery.compare"), key=f"{key_prefix}.compare.{job.job_id}")
        zip_place = tools[1]
    else:
        zip_place = st.container()
    zip_place.download_button(
        t("gallery.download_all"),
        data=_zip_builder(job),
        file_name=f"backdrop-{job.job_id[:8]}.zip",
        mime="application/zip",
        key=f"{key_prefix}.zip.{job.job_id}",
        on_click="ignore",
        icon=":material/folder_zip:",
    )
    # Before/after pairs need twice the width per variant.
    if before_after:
        per_row = max(1, per_row // 2)
    elif not compact:
        per_row = min(per_row, max(2, len(job.outputs)))
    for start in range(0, len(job.outputs), per_row):
        columns = st.columns(per_row)
        for column, output in zip(columns, job.outputs[start : start + per_row], strict=False):
            with column:
                _variant(job, output, compare=before_after, key_prefix=key_prefix)


def _variant(job: JobView, output: JobOutput, *, compare: bool, key_prefix: str) -> None:
    with st.container(border=True):
        caption = t("gallery.variant", number=output.index, width=output.width, height=output.height)
        shown = image_source(output.path)
        if shown is None:
            st.warning(t("gallery.missing_file"), icon=":material/broken_image:")
            return
        before_image = image_source(job.input_path) if compare else None
        if before_image is not None:
            before, after = st.columns(2)
            before.image(before_image, caption=t("gallery.before"), width="stretch")
            after.image(shown, caption=t("gallery.after"), width="stretch")
        else:
            st.image(shown, caption=caption, width="stretch")
        st.download_button(
            t("gallery.download"),
            data=_file_reader(output.path),
            file_name=f"backdrop-{job.job_id[:8]}-{output.index:02d}.png",
            mime="image/png",
            key=f"{key_prefix}.dl.{job.job_id}.{output.index}",
            on_click="ignore",
            icon=":material/download:",
            width="stretch",
        )


def _file_reader(path: str) -> Callable[[], bytes]:
    return lambda: file_bytes(path) or b""


def _zip_builder(job: JobView) -> Callable[[], bytes]:
    return lambda: outputs_zip(job)


def outputs_zip(job: JobView) -> bytes:
    """All of a job's images in one ZIP, named so they sort in variant order."""
    buffer = io.BytesIO()
    # PNGs are already compressed; storing them keeps the click instant.
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for output in job.outputs:
            data = file_bytes(output.path)
            if data is not None:
                suffix = Path(output.path).suffix
                archive.writestr(f"backdrop-{job.job_id[:8]}-{output.index:02d}{suffix}", data)
    return buffer.getvalue()


def scene_lines(notes: Mapping[str, Any]) -> list[str]:
    """What a local-engine job's set was made of, and the note when a place was only approximated."""
    plan = notes.get("scene_plan")
    if not isinstance(plan, Mapping):
        return []
    direction = t(f"scene.direction.{_direction(float(plan.get('light_direction_deg') or 0.0))}")
    light = _label("light", plan.get("light"))
    plate = notes.get("backdrop_plate")
    if plan.get("plate") and isinstance(plate, Mapping):
        return [t("scene.on_plate", name=plain(plate.get("name") or ""), light=light, direction=direction)]
    pattern = str(plan.get("light_pattern") or "none")
    lines = [
        t(
            "scene.plan",
            surface=_label("surface", plan.get("surface")),
            light=light,
            kelvin=int(plan.get("colour_temperature_k") or 0),
            direction=direction,
            camera=t(f"scene.camera.{plan.get('camera')}") if plan.get("camera") in _CAMERAS else "",
            pattern=t("scene.pattern", pattern=_label("pattern", pattern)) if pattern != "none" else "",
        )
    ]
    approximation = notes.get("approximation")
    if isinstance(approximation, Mapping) and approximation.get("place"):
        lines.append(
            t(
                "scene.approximation",
                place=_label("place", approximation["place"]),
                surface=_label("surface", plan.get("surface")),
                light=light,
                providers=" / ".join(str(p) for p in approximation.get("providers") or ()),
            )
        )
    return lines


_CAMERAS = ("eye_level", "three_quarter", "flat_lay")


def _label(part: Part, name: object) -> str:
    return scene_label(part, str(name or ""), current_language())


def _direction(azimuth_deg: float) -> str:
    x, y = math.cos(math.radians(azimuth_deg)), math.sin(math.radians(azimuth_deg))
    if abs(y) > abs(x):
        return "behind" if y > 0 else "front"
    return "right" if x > 0 else "left"
