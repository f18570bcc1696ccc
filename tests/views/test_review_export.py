"""Review's export gate (AppTest): "Check before export" lists what the preset's rules find per
image, what the export fixes and what remains, and the images it would enlarge; an image still
breaking the rules is left out unless the override is ticked; Chinese presets offer the visible
AI label, on by default."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from imaging.marketplace import PRESETS
from studio.export_checks import ExportPreview
from studio.i18n import translate, translate_strict
from studio.jobs import ReviewState
from studio.service import Studio
from tests.views.conftest import open_app, texts
from tests.views.review_helpers import finished_batch, outputs, stamp_sale_text
from ui.services import get_studio

# Taobao 800x800 (kept background): MUG-BIG passes once resized; MUG-SALE gets a sale banner on its
# background, which the export cannot take away (non-compliant); MUG-MID is enlarged 1.56x.
SKUS = ("MUG-BIG", "MUG-SALE", "MUG-MID")
SIZES = ((1024, 1024), (1024, 1024), (512, 512))


@pytest.fixture
def studio(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Studio]:
    monkeypatch.setenv("STUDIO_CHECKS", "off")
    st.cache_resource.clear()
    yield get_studio()


@pytest.fixture
def approved_batch(studio: Studio) -> str:
    batch_id = finished_batch(studio, SKUS, count=1, side=(320, 260), sizes=SIZES)
    for job, index in outputs(studio, batch_id):
        studio.batches.review(job.job_id, index, decision=ReviewState.APPROVED)
        if job.sku == "MUG-SALE":
            stamp_sale_text(job.outputs[0].path)
    return batch_id


def preview(studio: Studio, batch_id: str, sku: str) -> ExportPreview:
    return next(p for p in studio.batches.preview_export(batch_id, PRESETS["taobao"]) if p.item.sku == sku)


def names(flags: tuple[str, ...]) -> str:
    """Broken rules as the gate's table names them."""
    return ", ".join(translate("en", f"review_checks.rule.{flag}") for flag in flags)


def export_page(batch_id: str, preset: str = "taobao", lang: str = "en") -> AppTest:
    at = open_app("views/review.py", lang=lang)
    at.session_state[f"review.batch.{lang}"] = batch_id
    at.run()
    at.selectbox(key=f"review.export.preset.{lang}").set_value(preset).run()
    assert not at.exception, at.exception
    return at


def zip_images(at: AppTest) -> list[str]:
    data, files, _ = at.session_state["review.export.zip"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [name for name in archive.namelist() if name != "export.csv"]
    assert len(names) == files
    return names


def test_the_gate_lists_the_noncompliant_image_and_the_export_needs_the_override(
    studio: Studio, approved_batch: str
) -> None:
    at = export_page(approved_batch)
    at.button(key="review.export.check").click().run()
    assert not at.exception, at.exception
    metrics = {metric.label: metric.value for metric in at.metric}
    assert (metrics["Images"], metrics["Still break rules"], metrics["Enlarged more than 1.5×"]) == (
        "3",
        "1",
        "1",
    )
    table = at.table[-1].value.reset_index()  # a short list: a static table, wrapped, indexed by image
    rows = {row["Image"].split(" · ")[0]: row for _, row in table.iterrows()}
    assert rows["MUG-BIG"]["Still wrong after export"] == "passes"
    assert rows["MUG-MID"]["Still wrong after export"] == "passes"
    sale = preview(studio, approved_batch, "MUG-SALE")
    assert rows["MUG-SALE"]["Still wrong after export"] == names(("text_or_watermark",))
    big = preview(studio, approved_batch, "MUG-BIG")
    assert big.before is not None and "wrong_size" in big.before.flags  # 1024 px is not Taobao's 800
    assert rows["MUG-BIG"]["As generated"] == names(big.before.flags)
    assert "resized" in rows["MUG-BIG"]["The export fixes"]
    assert rows["MUG-MID"]["Enlarged"] == "1.6×"
    page = texts(at)
    assert "1 image still breaks the Taobao 800×800 rules" in page
    # The failing image is listed with the full reason: the compliance table's sentence.
    sale_reason = " ".join(translate_strict("en", i.key, **i.params) or "" for i in sale.remaining)
    assert "**MUG-SALE · Local engine (offline, free) · variant 1**" in page and "watermark" in sale_reason
    assert (
        "MUG-MID · Local engine (offline, free) · variant 1: enlarged 1.6×" in page
    )  # listed as enlarged more than 1.5x

    # Without the override the non-compliant image is left out, and the page says why. (The visible
    # AI label has a test of its own.)
    at.checkbox(key="review.export.label.taobao").uncheck()
    at.button(key="review.export.build").click().run()
    assert not at.exception, at.exception
    assert sorted(name.split("_")[0] for name in zip_images(at)) == ["MUG-BIG", "MUG-MID"]
    left_out = at.dataframe[-1].value
    assert list(left_out.iloc[:, 0].str.split(" · ").str[0]) == ["MUG-SALE"]
    assert sale_reason.rstrip(".") in left_out.iloc[0, 1]
    assert "Tick the override" in left_out.iloc[0, 1]
    assert "1 image left out:" in texts(at)

    # With the override both are exported.
    at.checkbox(key="review.export.override").check().run()
    at.button(key="review.export.build").click().run()
    assert not at.exception, at.exception
    assert sorted(name.split("_")[0] for name in zip_images(at)) == list(sorted(SKUS))
    assert not any(
        translate("en", "review_checks.result.col.why") in str(d.value.columns) for d in at.dataframe[-1:]
    )


def test_enlarged_images_can_be_skipped(studio: Studio, approved_batch: str) -> None:
    at = export_page(approved_batch)
    at.checkbox(key="review.export.override").check()
    at.checkbox(key="review.export.label.taobao").uncheck()
    at.checkbox(key="review.export.skip_upscaled").check().run()
    at.button(key="review.export.build").click().run()
    assert not at.exception, at.exception
    assert sorted(name.split("_")[0] for name in zip_images(at)) == ["MUG-BIG", "MUG-SALE"]
    left_out = at.dataframe[-1].value
    assert list(left_out.iloc[:, 0].str.split(" · ").str[0]) == ["MUG-MID"]
    assert left_out.iloc[0, 1] == translate("en", "review_checks.result.code.upscaled")


def test_a_changed_choice_makes_the_check_stale(studio: Studio, approved_batch: str) -> None:
    at = export_page(approved_batch)
    at.button(key="review.export.check").click().run()
    assert not any(translate("en", "review_checks.gate.stale") in str(w.value) for w in at.warning)
    at.selectbox(key="review.export.preset.en").set_value("tmall").run()
    assert any(translate("en", "review_checks.gate.stale") in str(w.value) for w in at.warning)


def test_chinese_presets_offer_the_visible_ai_label_on_by_default(
    studio: Studio, approved_batch: str
) -> None:
    at = export_page(approved_batch, preset="amazon")
    assert not any(str(box.key).startswith("review.export.label.") for box in at.checkbox)
    at.selectbox(key="review.export.preset.en").set_value("tmall").run()
    label = at.checkbox(key="review.export.label.tmall")
    assert label.value and "AI生成" in label.label
    zh = export_page(approved_batch, preset="taobao_white", lang="zh")
    assert zh.checkbox(key="review.export.label.taobao_white").label == "添加可见的 AI 标识（AI生成）"
    assert "taobao_white" not in " ".join(zh.selectbox(key="review.export.preset.zh").options)
