"""Review one image at a time (the original beside it, keys A/X/F/Z and arrows), and the undo of
the last decision: an image that leaves the list ("Not reviewed" after approving) says so and
can be put back with one click or the Z key.

The last decision is kept in session state per batch (`remember`), whether it was made here or
in the product grid; `undo_bar` shows it with its Undo button.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from studio.batches import BatchError
from studio.jobs import JobOutput, ReviewState
from studio.service import ProviderInfo, Studio
from ui import auth
from ui.errors import error_text
from ui.formatting import provider_label
from ui.i18n import t, tkey
from ui.plain import plain
from ui.review_badges import check_badge, decider_text
from ui.review_items import Variant, filter_label, passes
from ui.stored_files import image_source

# What the undo bar says was done, per decision (None: the decision was cleared).
_DONE = {
    "approved": tkey("review_checks.last.approved"),
    "rejected": tkey("review_checks.last.rejected"),
    "cleared": tkey("review_checks.last.cleared"),
}


@dataclass(frozen=True)
class Decision:
    """One review decision, enough to put it back: the image, its state before and after, and
    where the one-by-one view stood, so the undone image comes back into view."""

    job_id: str
    index: int
    before: str | None
    after: str | None
    what: str  # "SKU · provider · variant n", already plain text for markdown
    position: int | None = None


def last_key(batch_prefix: str) -> str:
    return f"{batch_prefix}.last"


def describe(item: Variant, providers: Sequence[ProviderInfo]) -> str:
    return t(
        "review_checks.what",
        sku=plain(item.job.sku or item.job.job_id[:8]),
        provider=provider_label(item.job.provider, providers),
        variant=item.output.index,
    )


def decide(
    studio: Studio,
    item: Variant,
    decision: ReviewState | None,
    batch_prefix: str,
    providers: Sequence[ProviderInfo],
    position: int | None = None,
) -> bool:
    """Record `decision` (None clears it) and remember it for Undo; False (with a message) when refused."""
    try:
        studio.batches.review(
            item.job.job_id, item.output.index, decision=decision, by=auth.current_person().key
        )
    except BatchError as exc:
        st.error(error_text(exc), icon=":material/error:")
        return False
    st.session_state[last_key(batch_prefix)] = Decision(
        item.job.job_id,
        item.output.index,
        item.output.review,
        None if decision is None else str(decision),
        describe(item, providers),
        position,
    )
    st.session_state.pop(f"{batch_prefix}.undone", None)
    return True


def undo_bar(studio: Studio, batch_prefix: str, show: str, focus_prefix: str) -> None:
    """The last decision in words, whether it moved the image out of the list, and Undo (Z)."""
    undone = st.session_state.pop(f"{batch_prefix}.undone", None)
    if isinstance(undone, str):
        st.success(undone, icon=":material/undo:")
    last = st.session_state.get(last_key(batch_prefix))
    if not isinstance(last, Decision):
        return
    words = t(_DONE[last.after or "cleared"], what=last.what)
    # Favourite and flagged do not change with a decision: only the decision filters drop an image.
    if show in ("unreviewed", "approved", "rejected") and not passes(show, last.after):
        words += " " + t("review_checks.last.moved", filter=filter_label(show))
    text, button = st.columns([5, 1], vertical_alignment="center")
    text.info(words, icon=":material/check_circle:" if last.after == "approved" else ":material/info:")
    if button.button(
        t("review_checks.undo"), key=f"{batch_prefix}.undo", icon=":material/undo:", shortcut="Z",
        help=t("review_checks.undo_help"), width="stretch",
    ):  # fmt: skip
        _undo(studio, last, batch_prefix, focus_prefix)


def _undo(studio: Studio, last: Decision, batch_prefix: str, focus_prefix: str) -> None:
    try:
        studio.batches.review(last.job_id, last.index, decision=last.before, by=auth.current_person().key)
    except BatchError as exc:
        st.error(error_text(exc), icon=":material/error:")
        return
    st.session_state.pop(last_key(batch_prefix), None)
    state = t(f"review.state.{last.before}") if last.before else t("review.state.none")
    st.session_state[f"{batch_prefix}.undone"] = t("review_checks.undone", what=last.what, state=state)
    if last.position is not None:
        # The undone image is back in the list at the place it left: show it again.
        st.session_state[f"{focus_prefix}.position"] = last.position
    st.rerun()


def focus_review(
    studio: Studio,
    items: Sequence[Variant],
    providers: Sequence[ProviderInfo],
    prefix: str,
    show: str = "all",
    batch_prefix: str | None = None,
) -> None:
    """One image large, the original beside it; A approve, X reject, F favourite, arrows to move."""
    batch_prefix = batch_prefix or prefix.rsplit(".", 1)[0]
    undo_bar(studio, batch_prefix, show, prefix)
    if not items:
        st.info(t("review.nothing"), icon=":material/filter_alt_off:")
        return
    key = f"{prefix}.position"
    position = min(int(st.session_state.get(key, 0)), len(items) - 1)
    item = items[position]
    job, output = item.job, item.output
    st.markdown(
        t(
            "review.focus_heading",
            number=position + 1,
            total=len(items),
            sku=plain(job.sku or job.job_id[:8]),
            provider=provider_label(job.provider, providers),
            variant=output.index,
        )
    )
    # What the check found, then the actions, then the pictures: at 1440x900 the decision and its
    # reason are on screen without scrolling past two large images.
    check_badge(output)
    row = st.columns(5)
    if row[0].button(t("review.previous"), key=f"{prefix}.prev", icon=":material/chevron_left:",
                     shortcut="Left", disabled=position == 0, width="stretch"):  # fmt: skip
        st.session_state[key] = position - 1
        st.rerun()
    if row[1].button(t("review.approve"), key=f"{prefix}.approve", icon=":material/check:", shortcut="A",
                     type="primary", width="stretch"):  # fmt: skip
        _decide(studio, item, ReviewState.APPROVED, key, position, len(items), show, batch_prefix, providers)
    if row[2].button(t("review.reject"), key=f"{prefix}.reject", icon=":material/close:", shortcut="X",
                     width="stretch"):  # fmt: skip
        _decide(studio, item, ReviewState.REJECTED, key, position, len(items), show, batch_prefix, providers)
    if row[3].button(t("review.favourite"), key=f"{prefix}.fav", icon=":material/star:", shortcut="F",
                     width="stretch"):  # fmt: skip
        studio.batches.review(
            job.job_id, output.index, favourite=not output.favourite, by=auth.current_person().key
        )
        st.rerun()
    if row[4].button(t("review.next"), key=f"{prefix}.next", icon=":material/chevron_right:", shortcut="Right",
                     disabled=position >= len(items) - 1, width="stretch"):  # fmt: skip
        st.session_state[key] = position + 1
        st.rerun()
    before, after = st.columns(2)
    before_image = image_source(job.input_path)
    if before_image is not None:
        before.image(before_image, caption=t("gallery.before"), width="stretch")
    after.image(image_source(output.path) or output.path, caption=state_text(output), width="stretch")
    note_key = f"{prefix}.note.{job.job_id}.{output.index}"
    note = st.text_input(
        t("review.note"), value=output.note, key=note_key, placeholder=t("review.note_placeholder")
    )
    if note != output.note:
        studio.batches.review(job.job_id, output.index, note=note, by=auth.current_person().key)
    st.caption(t("review.keys") + " " + t("review_checks.keys_undo"))


def _decide(
    studio: Studio,
    item: Variant,
    decision: ReviewState,
    key: str,
    position: int,
    count: int,
    show: str,
    batch_prefix: str,
    providers: Sequence[ProviderInfo],
) -> None:
    if not decide(studio, item, decision, batch_prefix, providers, position):
        return
    # On to the next image: reviewing a catalogue is a run of single key presses. When the filter
    # drops the decided image (e.g. "not reviewed"), the next one slides into this place.
    stays = passes(show, str(decision), favourite=item.output.favourite, flagged=item.output.flagged)
    st.session_state[key] = min(position + 1, count - 1) if stays else min(position, max(0, count - 2))
    st.rerun()


def state_text(output: JobOutput) -> str:
    """The caption under an image: its decision, favourite mark and who decided."""
    parts = [t(f"review.state.{output.review}") if output.review else t("review.state.none")]
    if output.favourite:
        parts.append(t("review.state.favourite"))
    if output.decided_by is not None and (output.review or output.favourite):
        parts.append(decider_text(output.decided_by))
    return " · ".join(parts)
