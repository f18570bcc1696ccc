"""The prompt page with the cloud vendors (DashScope, Tencent) and "compare providers", end to end.

The vendors are configured only through the environment, as a deployment does,
pointing at the loopback emulators; Tencent reads its inputs from links, so the
tests that use it publish them through folder hosting: a temporary folder
served by `StaticFolder` is STUDIO_PUBLISH_DIR, its URL STUDIO_PUBLIC_BASE_URL.
The variables are set before the app's cached Studio is built (`_studio`).
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from providers.base import Money
from studio.i18n import translate
from studio.jobs import JobStatus, JobView
from studio.service import Studio
from tests.emulators.dashscope import DashScopeEmulator
from tests.emulators.static_files import StaticFolder
from tests.emulators.tencent_aiart import TencentAiartEmulator
from tests.views.conftest import open_app, texts
from tests.views.photos import product_photo
from ui.plain import shown as rendered
from ui.services import get_studio

DS_KEY = "sk-page-dashscope-0123456789"
TC_ID, TC_KEY = "AKIDpagetencent0123456789", "page-tencent-secret-987654"
JOB_TIMEOUT_S = 90
PHOTO = (320, 260)  # opaque: DashScope needs the automatic cutout
PROMPT = "white marble, soft light"
PROVIDER = "prompt.provider.en"
LABELS = {
    "local": "Local engine (offline, free)",
    "dashscope": "DashScope wanx background generation (Alibaba Cloud)",
    "tencent_aiart": "Tencent Cloud AI Art (ReplaceBackground)",
}
# Everything that configures a vendor or input hosting: cleared first so only what a test sets counts.
_VENDOR_ENV = (
    "DASHSCOPE_API_KEY",
    "DASHSCOPE_BASE_URL",
    "DASHSCOPE_WORKSPACE",
    "DASHSCOPE_POLL_INTERVAL_S",
    "DASHSCOPE_PRICE_PROMPT",
    "TENCENTCLOUD_SECRET_ID",
    "TENCENTCLOUD_SECRET_KEY",
    "TENCENTCLOUD_REGION",
    "TENCENT_AIART_ENDPOINT",
    "TENCENT_AIART_PROTOCOL",
    "TENCENT_AIART_PRICE_PROMPT",
    "AIDGE_ACCESS_KEY_NAME",
    "AIDGE_ACCESS_KEY_SECRET",
    "STUDIO_S3_BUCKET",
    "STUDIO_PUBLISH_DIR",
    "STUDIO_PUBLIC_BASE_URL",
)


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def dashscope() -> Iterator[DashScopeEmulator]:
    with DashScopeEmulator(DS_KEY, queries_to_finish=2) as running:
        yield running


@pytest.fixture
def tencent() -> Iterator[TencentAiartEmulator]:
    with TencentAiartEmulator(TC_ID, TC_KEY) as running:
        yield running


@pytest.fixture
def publish_dir(tmp_path: Path) -> Iterator[tuple[Path, StaticFolder]]:
    """The folder studio publishes inputs into, and the loopback web server that serves it."""
    folder = tmp_path / "public"
    folder.mkdir()
    server = StaticFolder(folder)
    with server:
        yield folder, server


def _studio(
    monkeypatch: pytest.MonkeyPatch,
    *,
    dashscope: DashScopeEmulator | None = None,
    tencent: TencentAiartEmulator | None = None,
    hosting: tuple[Path, StaticFolder] | None = None,
) -> Studio:
    """The app's own cached Studio, built after the variables point at the emulators."""
    for name in _VENDOR_ENV:
        monkeypatch.delenv(name, raising=False)
    if dashscope is not None:
        monkeypatch.setenv("DASHSCOPE_API_KEY", DS_KEY)
        monkeypatch.setenv("DASHSCOPE_BASE_URL", dashscope.api_url)
        # Emulators serve result links on 127.0.0.1, which studio refuses by default.
        monkeypatch.setenv("STUDIO_ALLOW_PRIVATE_LINKS", "true")
        monkeypatch.setenv("DASHSCOPE_POLL_INTERVAL_S", "0.1")
    if tencent is not None:
        monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", TC_ID)
        monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", TC_KEY)
        monkeypatch.setenv("TENCENT_AIART_ENDPOINT", tencent.endpoint)
        # Emulators serve result links on 127.0.0.1, which studio refuses by default.
        monkeypatch.setenv("STUDIO_ALLOW_PRIVATE_LINKS", "true")
        monkeypatch.setenv("TENCENT_AIART_PROTOCOL", "http")
    if hosting is not None:
        folder, server = hosting
        monkeypatch.setenv("STUDIO_PUBLISH_DIR", str(folder))
        monkeypatch.setenv("STUDIO_PUBLIC_BASE_URL", server.base_url)
    return get_studio()


# ------------------------------------------------------------------ helpers
def _page(provider: str | None = None, *, photo: bool = True, prompt: str = PROMPT) -> AppTest:
    at = open_app()
    if photo:
        at.session_state["prompt.photo"] = {"name": "red-mug.png", "data": product_photo(PHOTO)}
        at.run()
    if prompt:
        at.text_area(key="prompt.text").input(prompt)
    if provider is not None:
        at.selectbox(key=PROVIDER).set_value(provider)
    at.run()
    assert not at.exception
    return at


def _wait_finished(studio: Studio, job_id: str) -> JobView:
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        job = studio.get_job(job_id)
        if job is not None and not job.is_pending:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still pending after {JOB_TIMEOUT_S} s")


def _keys(at: AppTest, kind: str) -> list[str]:
    return [str(widget.key) for widget in getattr(at, kind)]


def _variant_captions(node: AppTest | Block) -> list[str]:
    return [c for image in node.image for c in image.captions if c.startswith("Variant")]


def _submit_body(emulator: DashScopeEmulator) -> dict[str, Any]:
    (submit,) = [request for request in emulator.calls("submit") if request.outcome == "ok"]
    assert isinstance(submit.body, dict)
    return submit.body


def _tencent_fields(emulator: TencentAiartEmulator) -> dict[str, Any]:
    (call,) = [call for call in emulator.requests if call.outcome == "ok"]
    assert call.signature_ok and call.body is not None
    return call.body


def _card(at: AppTest, job: JobView) -> Block:
    """The one column of the comparison that holds this job's card."""
    tag = f"`#{job.job_id[:8]}`"
    found = [column for column in at.columns if any(tag in md.value for md in column.markdown)]
    assert len(found) == 1, f"expected one column with the card of {job.provider}, found {len(found)}"
    return found[0]


def _facts(card: Block) -> str:
    """The card's "Created … · took … · cost" line."""
    lines = [caption.value for caption in card.caption if " · took " in caption.value]
    assert len(lines) == 1, [caption.value for caption in card.caption]
    return lines[0]


def _took(job: JobView) -> str:
    assert job.duration_s is not None
    return "took " + translate("en", "duration.seconds", seconds=f"{job.duration_s:.1f}")


def _secrets_absent(at: AppTest) -> None:
    shown = "\n".join(
        [texts(at)]
        + [str(widget.value) for widget in at.text_input]
        + [str(block.value) for block in at.code]
        + [str(widget.label) for widget in at.button]
    )
    for secret in (DS_KEY, TC_KEY, TC_ID):
        assert secret not in shown


# ------------------------------------------------------------------ 1. options per provider
def test_each_provider_shows_only_its_own_options_and_price(
    data_dir: Path,
    dashscope: DashScopeEmulator,
    tencent: TencentAiartEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _studio(monkeypatch, dashscope=dashscope, tencent=tencent)
    at = _page(photo=False, prompt="")
    assert list(at.selectbox(key=PROVIDER).options) == [
        LABELS["local"],
        LABELS["tencent_aiart"],
        LABELS["dashscope"],
    ]
    local_controls = {"prompt.size.en", "prompt.layout.en", "prompt.shadow.en"}

    # DashScope: its three documented fields with their defaults and ranges, and its price.
    at.selectbox(key=PROVIDER).set_value("dashscope").run()
    assert not at.exception
    version = at.radio(key="prompt.dashscope.opt.model_version.en")
    assert version.value == "v2"
    assert list(version.options) == ["v2 (faster)", "v3 (better quality)"]
    assert "`model_version`" in version.label
    noise = at.number_input(key="prompt.dashscope.opt.noise_level")
    assert (noise.value, noise.min, noise.max) == (300, 0, 999)
    weight = at.slider(key="prompt.dashscope.opt.ref_prompt_weight")
    assert (weight.value, weight.min, weight.max) == (0.5, 0.0, 1.0)
    count = at.slider(key="prompt.count")
    assert (count.min, count.max) == (1, 4)
    page = texts(at)
    assert "0.08 CNY per image." in page
    assert translate("en", "output.vendor_size") in page
    shown = set(_keys(at, "selectbox") + _keys(at, "radio") + _keys(at, "slider"))
    assert not local_controls & shown
    assert not {"prompt.fill", "prompt.margin", "prompt.finish"} & set(
        _keys(at, "slider") + _keys(at, "toggle")
    )
    assert not any(key.startswith("prompt.tencent_aiart.") for key in _keys(at, "text_input"))

    # Tencent: Product, Resolution, LogoAdd (on: the document's default, the visible AI mark), the logo.
    at.selectbox(key=PROVIDER).set_value("tencent_aiart").run()
    assert not at.exception
    assert at.text_input(key="prompt.tencent_aiart.opt.Product").value == ""
    resolution = at.text_input(key="prompt.tencent_aiart.opt.Resolution")
    assert resolution.value == "" and "`Resolution`" in resolution.label
    logo = at.toggle(key="prompt.tencent_aiart.opt.LogoAdd")
    assert logo.value is True and "`LogoAdd`" in logo.label
    page = texts(at)
    assert translate("en", "price.not_set", env="TENCENT_AIART_PRICE_PROMPT") in page
    assert "per image" not in page
    assert "prompt.count" not in _keys(at, "slider")  # Tencent makes exactly one image
    assert not local_controls & set(_keys(at, "selectbox") + _keys(at, "radio"))
    assert "prompt.dashscope.opt.model_version.en" not in _keys(at, "radio")
    assert "prompt.dashscope.opt.noise_level" not in _keys(at, "number_input")

    # Back to the local engine: its own controls return, the vendors' fields are gone.
    at.selectbox(key=PROVIDER).set_value("local").run()
    assert not at.exception
    assert local_controls <= set(_keys(at, "selectbox") + _keys(at, "radio"))
    assert {"prompt.fill", "prompt.margin"} <= set(_keys(at, "slider"))
    assert translate("en", "price.free_local") in texts(at)
    assert not [key for key in _keys(at, "text_input") + _keys(at, "toggle") if ".opt." in key]
    assert not [key for key in _keys(at, "radio") + _keys(at, "number_input") if ".opt." in key]
    _secrets_absent(at)


# ------------------------------------------------------------------ 2. Tencent without hosting
def test_tencent_without_hosting_warns_and_disables_generate(
    data_dir: Path, tencent: TencentAiartEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    _studio(monkeypatch, tencent=tencent)
    at = _page("tencent_aiart")
    warning = translate("en", "hosting.needed", provider=LABELS["tencent_aiart"])
    assert warning in [item.value for item in at.warning]
    assert at.button(key="prompt.generate").disabled
    assert translate("en", "reason.needs_hosting") in texts(at)
    assert not tencent.requests

    # The local engine needs no hosting: the button comes back.
    at.selectbox(key=PROVIDER).set_value("local").run()
    assert not at.button(key="prompt.generate").disabled
    assert translate("en", "reason.needs_hosting") not in texts(at)


# ------------------------------------------------------------------ 3. DashScope generate
def test_generate_through_dashscope_with_the_automatic_cutout(
    data_dir: Path, dashscope: DashScopeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio = _studio(monkeypatch, dashscope=dashscope)
    at = _page("dashscope")
    assert "Cutout by:" in texts(at)  # the page previews the cutout DashScope will get
    at.slider(key="prompt.count").set_value(2).run()
    generate = at.button(key="prompt.generate")
    assert not generate.disabled
    generate.click().run()
    assert not at.exception and not at.error

    job = _wait_finished(studio, at.session_state["prompt.job_id"])
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.provider, job.count, job.prompt) == ("dashscope", 2, PROMPT)
    # The automatic cutout was made at submit and stored with the job (History shows what was sent).
    assert job.mask_path is not None and Path(job.mask_path).is_file()
    with Image.open(job.mask_path) as mask:
        assert mask.mode == "L" and mask.size == PHOTO
    assert job.cost == Money(16, "CNY")  # 0.08 CNY x 2 images
    assert [(o.width, o.height) for o in job.outputs] == [PHOTO] * 2
    assert all(Path(o.path).is_file() for o in job.outputs)

    # The vendor got an RGBA base image (through its own temporary storage) and the asked-for count.
    body = _submit_body(dashscope)
    assert body["input"]["ref_prompt"] == PROMPT
    assert body["input"]["base_image_url"].startswith("oss://")
    assert body["parameters"] == {"n": 2, "model_version": "v2"}
    (task,) = dashscope.tasks.values()
    assert task.base_rgba is not None and task.base_rgba.shape == (PHOTO[1], PHOTO[0], 4)
    assert int(task.base_rgba[..., 3].min()) == 0  # the background is transparent

    # The page's job card: both variants, and the time and cost.
    at.run()
    assert not at.exception
    assert _variant_captions(at) == [f"Variant {n} · {PHOTO[0]} × {PHOTO[1]}" for n in (1, 2)]
    facts = [caption.value for caption in at.caption if " · took " in caption.value]
    assert len(facts) == 1 and "0.16 CNY" in facts[0].split(" · ") and _took(job) in facts[0]
    _secrets_absent(at)


# ------------------------------------------------------------------ 4. Tencent with folder hosting
def test_generate_through_tencent_with_folder_hosting_removes_the_inputs(
    data_dir: Path,
    tencent: TencentAiartEmulator,
    publish_dir: tuple[Path, StaticFolder],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, server = publish_dir
    studio = _studio(monkeypatch, tencent=tencent, hosting=publish_dir)
    at = _page("tencent_aiart")
    assert not at.warning
    at.text_input(key="prompt.tencent_aiart.opt.Resolution").input("1024:768")
    at.text_input(key="prompt.tencent_aiart.opt.Product").input("mug")
    at.toggle(key="prompt.tencent_aiart.opt.LogoAdd").set_value(False)
    at.run()
    assert translate("en", "opt.LogoAdd_off") in [warning.value for warning in at.warning]
    generate = at.button(key="prompt.generate")
    assert not generate.disabled
    generate.click().run()
    assert not at.exception and not at.error

    job = _wait_finished(studio, at.session_state["prompt.job_id"])
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert [(o.width, o.height) for o in job.outputs] == [(1024, 768)]
    assert job.cost is None  # Tencent publishes no price and none was set
    assert job.params == {
        "Product": "mug",
        "Resolution": "1024:768",
        "LogoAdd": False,
        "LogoImage": "",
        "LogoRect": "",
    }

    fields = _tencent_fields(tencent)
    assert fields["ProductUrl"].startswith(server.base_url + "/")
    assert (fields["Resolution"], fields["Product"], fields["LogoAdd"]) == ("1024:768", "mug", 0)
    assert fields["Prompt"] == PROMPT and "MaskUrl" not in fields  # auto mode: Tencent finds the product
    # The vendor really fetched the published photo, and nothing is left in the public folder.
    assert server.gets == ["/" + fields["ProductUrl"].rsplit("/", 1)[-1]]
    assert list(folder.iterdir()) == []

    at.run()
    assert not at.exception
    assert _variant_captions(at) == ["Variant 1 · 1024 × 768"]
    facts = [caption.value for caption in at.caption if " · took " in caption.value]
    assert len(facts) == 1 and "price not set" in facts[0].split(" · ") and _took(job) in facts[0]
    _secrets_absent(at)


# ------------------------------------------------------------------ 5. compare providers
def _compare(at: AppTest, providers: list[str]) -> None:
    at.multiselect(key="prompt.compare.providers.en").set_value(providers).run()
    button = at.button(key="prompt.compare.run")
    assert button.label == f"Compare on {len(providers)} providers"
    assert not button.disabled
    button.click().run()
    assert not at.exception


def _entries(at: AppTest) -> dict[str, tuple[str | None, Any]]:
    return {
        provider: (job_id, error) for provider, job_id, error in at.session_state["prompt.compare.entries"]
    }


def test_compare_runs_local_dashscope_and_tencent_side_by_side(
    data_dir: Path,
    dashscope: DashScopeEmulator,
    tencent: TencentAiartEmulator,
    publish_dir: tuple[Path, StaticFolder],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, _server = publish_dir
    studio = _studio(monkeypatch, dashscope=dashscope, tencent=tencent, hosting=publish_dir)
    at = _page()
    chosen = ["local", "dashscope", "tencent_aiart"]
    _compare(at, chosen)
    entries = _entries(at)
    assert list(entries) == chosen
    assert all(job_id and error is None for job_id, error in entries.values())

    jobs = {key: _wait_finished(studio, str(entries[key][0])) for key in chosen}
    for key, job in jobs.items():
        assert job.status == JobStatus.SUCCEEDED, (key, job.error)
        assert job.provider == key and job.prompt == PROMPT
    # The page's count (2) within each provider's range; the output size only goes to the local engine.
    assert [jobs[key].count for key in chosen] == [2, 2, 1]
    assert jobs["local"].cost is None and jobs["dashscope"].cost == Money(16, "CNY")
    assert jobs["tencent_aiart"].cost is None
    assert jobs["dashscope"].mask_path is not None and Path(jobs["dashscope"].mask_path).is_file()
    assert list(folder.iterdir()) == []

    at.run()
    assert not at.exception
    assert translate("en", "compare.results") in [header.value for header in at.subheader]
    expected_cost = {"local": "free", "dashscope": "0.16 CNY", "tencent_aiart": "price not set"}
    cards = [_card(at, jobs[key]) for key in chosen]
    for key, card in zip(chosen, cards, strict=True):
        job = jobs[key]
        heading = " ".join(md.value for md in card.markdown)
        assert LABELS[key] in heading
        facts = _facts(card)
        assert _took(job) in facts and expected_cost[key] in facts.split(" · "), facts
        assert len(_variant_captions(card)) == job.count
    # Three different columns, side by side.
    assert len({id(card.proto) for card in cards}) == 3
    _secrets_absent(at)

    # "Clear comparison" empties it.
    at.button(key="prompt.compare.clear").click().run()
    assert not at.exception
    assert not at.session_state["prompt.compare.entries"]
    assert translate("en", "compare.results") not in [header.value for header in at.subheader]


def test_compare_shows_a_refusing_provider_while_the_others_run(
    data_dir: Path,
    dashscope: DashScopeEmulator,
    tencent: TencentAiartEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    studio = _studio(monkeypatch, dashscope=dashscope, tencent=tencent)  # no input hosting
    at = _page()
    hosting = translate("en", "hosting.needed", provider=LABELS["tencent_aiart"])
    assert hosting in [item.value for item in at.warning]  # warned before the click
    chosen = ["local", "dashscope", "tencent_aiart"]
    _compare(at, chosen)
    entries = _entries(at)
    job_id, error = entries["tencent_aiart"]
    assert job_id is None and error is not None and error.code == "needs_hosting"
    assert not tencent.requests

    jobs = {key: _wait_finished(studio, str(entries[key][0])) for key in ("local", "dashscope")}
    assert all(job.status == JobStatus.SUCCEEDED for job in jobs.values()), jobs

    at.run()
    assert not at.exception
    refused = [rendered(item.value) for item in at.error]  # escaped for markdown (ui.plain)
    assert len(refused) == 1
    assert refused[0].startswith("Not started: ")
    assert refused[0] == translate(
        "en",
        "compare.refused",
        message=translate("en", "error.needs_hosting", provider="Tencent Cloud aiart"),
    )
    # The refusing provider's column names it and says why; the two others show their results.
    tencent_column = [
        column
        for column in at.columns
        if any(f"**{LABELS['tencent_aiart']}**" == md.value for md in column.markdown)
    ]
    assert len(tencent_column) == 1 and [rendered(e.value) for e in tencent_column[0].error] == refused
    for key in ("local", "dashscope"):
        card = _card(at, jobs[key])
        assert _took(jobs[key]) in _facts(card)
        assert len(_variant_captions(card)) == 2


# ------------------------------------------------------------------ 6. vendor options reach the vendor
def _png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_dashscope_options_set_on_the_page_reach_the_vendor(
    data_dir: Path, dashscope: DashScopeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio = _studio(monkeypatch, dashscope=dashscope)
    at = _page("dashscope")
    at.radio(key="prompt.dashscope.opt.model_version.en").set_value("v3")
    # noise_level and ref_prompt_weight are only sent with a reference image (and, for the weight, a prompt).
    at.session_state["prompt.reference"] = {"name": "beach.png", "data": _png((200, 150), (210, 190, 140))}
    at.run()
    at.number_input(key="prompt.dashscope.opt.noise_level").set_value(650)
    at.slider(key="prompt.dashscope.opt.ref_prompt_weight").set_value(0.7)
    at.slider(key="prompt.count").set_value(1)
    at.run()
    assert not at.exception
    assert "prompt.reference.blur" not in _keys(at, "slider")  # the blur is the local engine's
    at.button(key="prompt.generate").click().run()
    assert not at.exception and not at.error

    job = _wait_finished(studio, at.session_state["prompt.job_id"])
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.params == {"model_version": "v3", "noise_level": 650, "ref_prompt_weight": 0.7}
    assert job.reference_path is not None and Path(job.reference_path).is_file()
    body = _submit_body(dashscope)
    assert body["parameters"] == {"n": 1, "model_version": "v3", "noise_level": 650, "ref_prompt_weight": 0.7}
    assert body["input"]["ref_image_url"].startswith("oss://")
    assert job.cost == Money(8, "CNY")
