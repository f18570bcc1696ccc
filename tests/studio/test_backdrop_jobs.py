"""The user's backdrops in jobs: which one a job is placed on is decided at submit (chosen, a
`user:<id>` scene, or the prompt's tags), its photo is copied into the job's inputs so deleting
the library entry never breaks the job, cloud providers never get one, and batch rows name them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.base import (
    GenerationRequest,
    Operation,
    OutputImage,
    ProviderContext,
    Submitted,
    TaskState,
    TaskUpdate,
)
from providers.local import LocalEngine
from studio.backdrop_match import Backdrop
from studio.jobs import JobFilter, JobStatus
from studio.manifest import BatchDefaults, plan_from_manifest
from studio.service import JobRequest, Studio, StudioInputError
from studio.settings import load_settings
from tests.backdrop_photos import backdrop_photo
from tests.studio.fakes import FakeClock, SyncFake, png_bytes
from tests.studio.test_service import photo


class RecordingLocal(LocalEngine):
    """The local engine as the worker sees it, answering at once and keeping each request."""

    def __init__(self) -> None:
        super().__init__(ProviderContext())
        self.seen: list[GenerationRequest] = []

    def submit(self, request: GenerationRequest) -> Submitted:
        self.seen.append(request)
        outputs = tuple(OutputImage(data=png_bytes(80, 60)) for _ in range(request.count))
        return Submitted(
            remote_id=None, update=TaskUpdate(TaskState.SUCCEEDED, outputs=outputs, billed_images=0)
        )


@pytest.fixture()
def local() -> RecordingLocal:
    return RecordingLocal()


@pytest.fixture()
def studio(tmp_path: Path, local: RecordingLocal) -> Iterator[Studio]:
    settings = load_settings({"STUDIO_DATA_DIR": str(tmp_path / "data")}, tmp_path / "none.toml")
    clock = FakeClock()
    studio = Studio(
        settings, adapters={"local": local, "fake_sync": SyncFake()}, clock=clock, worker_threads=0
    )
    yield studio
    studio.close()


@pytest.fixture()
def slab(studio: Studio) -> Backdrop:
    return studio.backdrops.add(
        backdrop_photo(), name="Marble slab", tags="marble, 大理石", surface=(0.1, 0.6, 0.9, 0.6)
    )


@pytest.fixture()
def shelf(studio: Studio, slab: Backdrop) -> Backdrop:
    studio._clock.advance(60)  # type: ignore[attr-defined]
    return studio.backdrops.add(backdrop_photo(tone=40), name="Oak shelf", tags=["oak", "橡木", "shelf"])


def prompt_job(studio: Studio, prompt: str, provider: str = "local", **params: object) -> JobRequest:
    return JobRequest(
        workflow=Operation.PROMPT_BACKGROUND,
        provider=provider,
        image=studio.prepare_image(photo(), "mug.jpg"),
        prompt=prompt,
        count=1,
        params=dict(params),
    )


def test_a_prompt_naming_a_tag_gets_that_backdrop_and_keeps_it_after_the_entry_is_deleted(
    studio: Studio, local: RecordingLocal, slab: Backdrop, shelf: Backdrop
) -> None:
    job_id = studio.submit_job(prompt_job(studio, "a red mug on white marble, soft light"))
    job = studio.get_job(job_id)
    assert job is not None
    plate = job.notes["backdrop_plate"]
    assert (plate["name"], plate["backdrop_id"], plate["how"]) == ("Marble slab", slab.backdrop_id, "tags")
    assert plate["matched_tags"] == ["marble"] and plate["surface"] == [0.1, 0.6, 0.9, 0.6]
    copy = studio.settings.data_dir / plate["path"]
    assert copy.parent == Path(job.input_path or "").parent  # stored with the job's inputs
    assert copy.read_bytes() == Path(slab.photo_path).read_bytes()
    assert "backdrop_id" not in job.params  # auto is the default, nothing to replay

    assert studio.backdrops.delete(slab.backdrop_id)
    assert not Path(slab.photo_path).exists()
    studio.run_pending()
    done = studio.get_job(job_id)
    assert done is not None
    assert done.status is JobStatus.SUCCEEDED, done.error
    sent = local.seen[-1].plate
    assert sent is not None and sent.name == "Marble slab" and sent.surface == (0.1, 0.6, 0.9, 0.6)
    assert sent.image == copy.read_bytes()


def test_chinese_tags_match_inside_chinese_prompts_and_no_false_english_hits(
    studio: Studio, slab: Backdrop, shelf: Backdrop
) -> None:
    by_chinese = studio.get_job(studio.submit_job(prompt_job(studio, "橡木桌面上的咖啡杯，暖色灯光")))
    assert by_chinese is not None and by_chinese.notes["backdrop_plate"]["name"] == "Oak shelf"
    assert by_chinese.notes["backdrop_plate"]["matched_tags"] == ["橡木"]
    # "soak" is not "oak": nothing matches, the engine paints the background from the words.
    plain = studio.get_job(studio.submit_job(prompt_job(studio, "a sponge to soak, blue gradient")))
    assert plain is not None and "backdrop_plate" not in plain.notes


def test_a_chosen_backdrop_wins_over_tags_and_none_turns_them_off(
    studio: Studio, local: RecordingLocal, slab: Backdrop, shelf: Backdrop
) -> None:
    chosen = studio.get_job(studio.submit_job(prompt_job(studio, "marble", backdrop_id="oak shelf")))
    assert chosen is not None
    assert chosen.notes["backdrop_plate"]["name"] == "Oak shelf"
    assert (
        chosen.notes["backdrop_plate"]["how"] == "chosen"
        and "matched_tags" not in chosen.notes["backdrop_plate"]
    )
    assert chosen.params["backdrop_id"] == shelf.backdrop_id  # the id, so a retry places it again

    off = studio.get_job(studio.submit_job(prompt_job(studio, "white marble", backdrop_id="none")))
    assert off is not None and "backdrop_plate" not in off.notes and off.params["backdrop_id"] == "none"
    auto = studio.get_job(studio.submit_job(prompt_job(studio, "white marble", backdrop_id="auto")))
    assert auto is not None and auto.notes["backdrop_plate"]["name"] == "Marble slab"
    studio.run_pending()
    assert sorted(request.plate is not None for request in local.seen) == [False, True, True]


def test_an_unknown_backdrop_is_refused_before_anything_is_stored(studio: Studio, slab: Backdrop) -> None:
    with pytest.raises(StudioInputError) as caught:
        studio.submit_job(prompt_job(studio, "marble", backdrop_id="kitchen corner"))
    assert caught.value.code == "backdrop_not_found" and caught.value.params["backdrop"] == "kitchen corner"
    assert "There is no backdrop 'kitchen corner'" in str(caught.value)
    assert studio.list_jobs(JobFilter()).total == 0


def test_cloud_providers_never_get_a_plate(studio: Studio, slab: Backdrop) -> None:
    # Tags in the prompt: a cloud job simply runs without one.
    job = studio.get_job(studio.submit_job(prompt_job(studio, "white marble", provider="fake_sync")))
    assert job is not None and "backdrop_plate" not in job.notes and "backdrop_id" not in job.params
    # Asking for one explicitly is a clear refusal, not a silent drop.
    with pytest.raises(StudioInputError) as caught:
        studio.check_job(
            prompt_job(studio, "white marble", provider="fake_sync", backdrop_id=slab.backdrop_id)
        )
    assert caught.value.code == "backdrop_not_taken" and "only the local engine" in str(caught.value)
    scene = JobRequest(
        workflow=Operation.SCENE_BACKGROUND,
        provider="fake_sync",
        image=studio.prepare_image(photo(), "mug.jpg"),
        scene_id=slab.scene_id,
    )
    with pytest.raises(StudioInputError, match="does not use your own backdrops"):
        studio.check_job(scene)
    studio.run_pending()
    assert studio.adapters["fake_sync"].submits[0].plate is None  # type: ignore[attr-defined]


def test_a_user_scene_carries_the_plate(studio: Studio, local: RecordingLocal, slab: Backdrop) -> None:
    request = JobRequest(
        workflow=Operation.SCENE_BACKGROUND,
        provider="local",
        image=studio.prepare_image(photo(), "mug.jpg"),
        scene_id=slab.scene_id,
        count=2,
    )
    job = studio.get_job(studio.submit_job(request))
    assert job is not None and job.scene_id == f"user:{slab.backdrop_id}"
    assert (
        job.notes["backdrop_plate"]["how"] == "scene" and job.notes["backdrop_plate"]["name"] == "Marble slab"
    )
    studio.run_pending()
    assert local.seen[-1].plate is not None and local.seen[-1].scene_id == slab.scene_id

    with pytest.raises(StudioInputError) as caught:
        studio.check_job(dataclasses.replace(request, scene_id="user:0123456789abcdef"))
    assert caught.value.code == "backdrop_not_found"
    # A recipe scene gets no backdrop by itself, and unknown recipes are still refused.
    recipe = studio.get_job(studio.submit_job(dataclasses.replace(request, scene_id="pure-white")))
    assert recipe is not None and "backdrop_plate" not in recipe.notes
    with pytest.raises(StudioInputError, match="no local scene"):
        studio.check_job(dataclasses.replace(request, scene_id="nowhere"))


def test_the_local_catalogue_lists_the_users_backdrops_first(studio: Studio, slab: Backdrop) -> None:
    scenes = studio.local_scenes("en")
    mine = scenes[0]
    assert (mine.scene_id, mine.name, mine.category) == (slab.scene_id, "Marble slab", "mine")
    assert mine.thumbnail and mine.thumbnail[:3] == b"\xff\xd8\xff"
    assert [scene.scene_id for scene in scenes[1:]] == [
        scene.scene_id for scene in studio.adapters["local"].list_scenes({})
    ]
    assert studio.list_scenes("local")[0].scene_id == slab.scene_id


def test_batch_rows_name_backdrops_and_unknown_ones_stop_the_row_before_anything_is_queued(
    studio: Studio, tmp_path: Path, slab: Backdrop, shelf: Backdrop
) -> None:
    (tmp_path / "mug.jpg").write_bytes(photo())
    manifest = tmp_path / "catalogue.csv"
    manifest.write_text(
        "sku,image,workflow,provider,scene,prompt,param.backdrop_id\n"
        f"A1,mug.jpg,scene,local,{slab.scene_id},,\n"
        "A2,mug.jpg,prompt,local,,on a wooden table,Oak shelf\n"
        "A3,mug.jpg,prompt,local,,white marble,\n"
        "A4,mug.jpg,prompt,local,,anything,Kitchen corner\n"
        "A5,mug.jpg,scene,local,user:feedfacefeedface,,\n",
        encoding="utf-8",
    )
    plan = plan_from_manifest(studio, manifest, BatchDefaults())
    assert [item.sku for item in plan.items] == ["A1", "A2", "A3"]
    problems = {problem.sku: problem for problem in plan.problems}
    assert set(problems) == {"A4", "A5"}
    assert problems["A4"].code == "backdrop_not_found" and "Kitchen corner" in problems["A4"].message
    assert problems["A5"].code == "backdrop_not_found"
    assert studio.list_jobs(JobFilter()).total == 0  # a plan queues nothing

    batch_id = studio.batches.start(plan.items)
    names = {job.sku: job.notes["backdrop_plate"]["name"] for job in studio.store.batch_jobs(batch_id)}
    assert names == {"A1": "Marble slab", "A2": "Oak shelf", "A3": "Marble slab"}


def test_a_backdrop_whose_photo_is_gone_is_refused_and_leaves_nothing(studio: Studio, slab: Backdrop) -> None:
    Path(slab.photo_path).unlink()  # the data folder was tidied by hand
    with pytest.raises(StudioInputError) as caught:
        studio.submit_job(prompt_job(studio, "on marble"))
    assert caught.value.code == "backdrop_photo_missing" and "Marble slab" in str(caught.value)
    assert studio.list_jobs(JobFilter()).total == 0
    assert not (studio.settings.data_dir / "jobs").exists()


def test_a_batch_names_its_backdrop_in_a_backdrop_column(
    studio: Studio, tmp_path: Path, slab: Backdrop, shelf: Backdrop
) -> None:
    (tmp_path / "mug.jpg").write_bytes(photo())
    manifest = tmp_path / "catalogue.csv"
    manifest.write_text(
        "sku,image,workflow,provider,prompt,backdrop\n"
        "B1,mug.jpg,prompt,local,white marble,Oak shelf\n"
        "B2,mug.jpg,prompt,local,white marble,\n"
        "B3,mug.jpg,prompt,local,anything,Kitchen corner\n",
        encoding="utf-8",
    )
    plan = plan_from_manifest(studio, manifest, BatchDefaults())
    assert [item.sku for item in plan.items] == ["B1", "B2"]
    (problem,) = plan.problems
    assert (problem.sku, problem.code, problem.column) == ("B3", "backdrop_not_found", "backdrop")
    batch_id = studio.batches.start(plan.items)
    names = {job.sku: job.notes["backdrop_plate"]["name"] for job in studio.store.batch_jobs(batch_id)}
    assert names == {"B1": "Oak shelf", "B2": "Marble slab"}
