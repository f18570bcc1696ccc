"""Review: approve, reject and favourite each image of a batch (keyboard or grid, with Undo), see
what the product check found, compare providers product by product, then export the approved
images for a marketplace through the export gate."""

from __future__ import annotations

import streamlit as st

from ui.auth import allowed, current_person
from ui.batch_views import batch_label
from ui.export_gate import export_panel
from ui.formatting import provider_label
from ui.i18n import choice_key, labeller, t, tkey
from ui.layout import page_header
from ui.review_focus import focus_review
from ui.review_items import FILTERS, filter_label, variants
from ui.review_views import auto_reject_switch, product_grid, scoreboard
from ui.services import get_studio

PREFIX = "review"

studio = get_studio()
page_header(tkey("page.review.title"), tkey("page.review.intro"))
providers = studio.providers()
recent = studio.batches.recent(50, viewer=current_person())
if not recent:
    st.info(t("review.no_batches"), icon=":material/inventory_2:")
    if allowed("create"):  # the Batches page is in the navigation only for roles that create
        st.page_link("views/batches.py", label=t("review.to_batches"), icon=":material/dynamic_feed:")
    st.stop()

ids = [batch.batch_id for batch in recent]
top = st.columns([3, 2, 2])
batch_id = str(
    top[0].selectbox(
        t("batch.pick"),
        options=ids,
        format_func=labeller(ids, lambda key: batch_label(next(b for b in recent if b.batch_id == key))),
        key=choice_key(f"{PREFIX}.batch", ids, st.session_state.get("batch.selected") or ids[0]),
    )
)
batch = next(b for b in recent if b.batch_id == batch_id)
show = str(
    top[1].selectbox(
        t("review.show"),
        options=list(FILTERS),
        format_func=labeller(FILTERS, filter_label),
        key=choice_key(f"{PREFIX}.show", list(FILTERS), "unreviewed"),
    )
)
jobs = studio.batches.jobs(batch_id)
in_batch = sorted({job.provider for job in jobs})
chosen = top[2].multiselect(
    t("review.providers"),
    options=in_batch,
    format_func=labeller(in_batch, lambda key: provider_label(key, providers)),
    key=choice_key(f"{PREFIX}.providers.{batch_id}", in_batch, []),
    placeholder=t("review.all_providers"),
)
shown = variants(jobs, show, chosen)

st.subheader(t("review.scoreboard"))
scoreboard(jobs, providers, studio.batches.flagged_share(batch_id))
auto_reject_switch(studio, batch)
st.subheader(t("review.focus"))
focus_review(studio, shown, providers, f"{PREFIX}.{batch_id}.{show}", show, f"{PREFIX}.{batch_id}")
st.subheader(t("review.grid"))
product_grid(studio, jobs, shown, providers, f"{PREFIX}.{batch_id}")
if allowed("export"):  # viewers review and download; exports are for members and admins
    st.subheader(t("review.export"))
    export_panel(studio, batch_id, f"{PREFIX}.export")
