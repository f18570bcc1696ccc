"""Shared job files: one `FileStore` suite over the data folder and an S3 bucket (moto on
127.0.0.1), the STUDIO_STORAGE settings, and a local-engine job whose files live in the bucket."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.base import Operation
from studio.artifacts import ArtifactError, Artifacts
from studio.export import stored_sources
from studio.jobs import JobStatus
from studio.service import JobRequest, Studio
from studio.settings import SettingsError, load_settings
from studio.storage import FileMissing, FileStore, FolderStore, StorageUnavailable, key_for
from studio.storage_s3 import S3Store
from studio.storage_settings import StorageSettings, read_storage_settings
from tests.s3_loopback import FAKE_SECRET, keys_in, moto_endpoint, s3_env
from tests.studio.fakes import png_bytes
from tests.views.photos import product_photo

__all__ = ["moto_endpoint", "s3_env"]  # fixtures


@pytest.fixture(params=["folder", "s3"])
def files(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FileStore]:
    if request.param == "folder":
        yield FolderStore(tmp_path / "data")
        return
    variables = request.getfixturevalue("s3_env")
    settings = read_storage_settings(variables, {})
    assert settings is not None
    yield S3Store(settings)


def test_put_get_exists_delete(files: FileStore) -> None:
    assert not files.exists("jobs/2026/12/abc/input.png")
    files.put_bytes("jobs/2026/12/abc/input.png", b"one")
    files.put_bytes("jobs/2026/12/abc/input.png", b"two")  # replaced whole
    assert files.exists("jobs/2026/12/abc/input.png")
    assert files.get_bytes("jobs/2026/12/abc/input.png") == b"two"
    with files.open_stream("jobs/2026/12/abc/input.png") as stream:
        assert stream.read() == b"two"
    files.delete("jobs/2026/12/abc/input.png")
    assert not files.exists("jobs/2026/12/abc/input.png")


def test_missing_keys(files: FileStore) -> None:
    with pytest.raises(FileMissing, match="nope.png"):
        files.get_bytes("jobs/nope.png")
    with pytest.raises(FileMissing):
        files.open_stream("jobs/nope.png")
    assert not files.exists("jobs/nope.png")
    files.delete("jobs/nope.png")  # not an error
    assert files.list("jobs/") == []


def test_list_and_delete_prefix(files: FileStore) -> None:
    for key in ("jobs/a/1.png", "jobs/a/2.png", "jobs/b/1.png", "backdrops/x/photo.jpg"):
        files.put_bytes(key, key.encode())
    assert files.list("jobs/") == ["jobs/a/1.png", "jobs/a/2.png", "jobs/b/1.png"]
    assert files.list() == ["backdrops/x/photo.jpg", "jobs/a/1.png", "jobs/a/2.png", "jobs/b/1.png"]
    files.delete_prefix("jobs/a/")
    assert files.list("jobs/") == ["jobs/b/1.png"]


def test_a_big_file_streams_in_and_out(files: FileStore) -> None:
    size = 20 * 1024 * 1024 + 7  # past the multipart threshold
    data = os.urandom(1024) * (size // 1024) + b"x" * (size % 1024)
    files.put_stream("exports/big.bin", io.BytesIO(data))
    with files.open_stream("exports/big.bin") as stream:
        chunks = iter(lambda: stream.read(1024 * 1024), b"")
        assert b"".join(chunks) == data


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../x", "jobs/../../x", "a\\b", "jobs/", "a//b"])
def test_keys_stay_inside_the_store(files: FileStore, key: str) -> None:
    with pytest.raises(ValueError):
        files.put_bytes(key, b"x")


def test_display_path_only_for_the_folder(files: FileStore) -> None:
    files.put_bytes("jobs/a/out_01.png", b"x")
    local = files.local_path("jobs/a/out_01.png")
    if isinstance(files, FolderStore):
        assert local is not None and local.read_bytes() == b"x"
    else:
        assert local is None


def test_key_for_accepts_store_paths_and_keys(tmp_path: Path) -> None:
    assert key_for(tmp_path / "jobs/a/b.png", tmp_path) == "jobs/a/b.png"
    assert key_for("jobs/a/b.png", tmp_path) == "jobs/a/b.png"
    with pytest.raises(FileMissing):
        key_for("/elsewhere/b.png", tmp_path)


# ---------------------------------------------------------------- settings


def test_storage_settings_from_the_environment_and_secrets() -> None:
    assert read_storage_settings({}, {}) is None
    assert read_storage_settings({"STUDIO_STORAGE": "folder"}, {}) is None
    settings = read_storage_settings(
        {"STUDIO_STORAGE": "s3://team-files/studio/", "STUDIO_STORAGE_ENDPOINT": "http://127.0.0.1:9000/"},
        {"access_key_id": "AKIAX", "secret_access_key": "very-secret"},
    )
    assert settings == StorageSettings(
        bucket="team-files",
        prefix="studio/",
        endpoint_url="http://127.0.0.1:9000",
        addressing="path",
        access_key_id="AKIAX",
        secret_access_key="very-secret",
    )
    assert "very-secret" not in repr(settings) and "very-secret" not in settings.describe()
    from_secrets = read_storage_settings({}, {"url": "s3://b", "region": "eu-west-1"})
    assert from_secrets is not None and from_secrets.prefix == "" and from_secrets.region == "eu-west-1"


@pytest.mark.parametrize(
    ("env", "section", "message"),
    [
        ({"STUDIO_STORAGE": "https://bucket"}, {}, "use s3://bucket"),
        ({"STUDIO_STORAGE": "s3://user:pw@bucket"}, {}, "use s3://bucket"),
        ({"STUDIO_STORAGE": "s3://b/../x"}, {}, "use s3://bucket"),
        ({"STUDIO_STORAGE_ENDPOINT": "http://127.0.0.1:9000"}, {}, "STUDIO_STORAGE is not"),
        ({"STUDIO_STORAGE": "s3://b", "STUDIO_STORAGE_ENDPOINT": "ftp://x"}, {}, "http"),
        ({"STUDIO_STORAGE": "s3://b"}, {"access_key_id": "only-one"}, "both"),
    ],
)
def test_bad_storage_settings_say_what_to_fix(
    env: dict[str, str], section: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        read_storage_settings(env, section)


def test_load_settings_reads_storage_and_app_worker(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[studio]\napp_worker = false\n[storage]\nurl = "s3://files/team"\n'
        'endpoint = "http://127.0.0.1:9000"\naccess_key_id = "AKIAX"\nsecret_access_key = "hidden-value"\n'
    )
    settings = load_settings({"STUDIO_DATA_DIR": str(tmp_path / "d")}, secrets_path=secrets)
    assert settings.app_worker is False
    assert settings.storage is not None and settings.storage.bucket == "files"
    assert "hidden-value" not in repr(settings)
    default = load_settings({"STUDIO_DATA_DIR": str(tmp_path / "d")}, secrets_path=tmp_path / "none.toml")
    assert default.app_worker is True and default.storage is None
    env = load_settings({"STUDIO_APP_WORKER": "false"}, secrets_path=tmp_path / "none.toml")
    assert env.app_worker is False
    with pytest.raises(SettingsError, match="STUDIO_APP_WORKER"):
        load_settings({"STUDIO_APP_WORKER": "maybe"}, secrets_path=tmp_path / "none.toml")


def test_an_unreachable_bucket_is_one_clear_error_without_secrets(
    s3_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = read_storage_settings({**s3_env, "STUDIO_STORAGE": "s3://no-such-bucket-here"}, {})
    assert settings is not None
    store = S3Store(settings)
    with (
        caplog.at_level(logging.DEBUG),
        pytest.raises(StorageUnavailable, match="no-such-bucket-here") as caught,
    ):
        store.put_bytes("jobs/a.png", b"x")
    assert FAKE_SECRET not in str(caught.value) and FAKE_SECRET not in caplog.text


# ---------------------------------------------------------------- job files in the bucket


def test_artifacts_in_a_bucket_keep_relative_keys_and_seal(s3_env: dict[str, str], tmp_path: Path) -> None:
    settings = read_storage_settings(s3_env, {})
    assert settings is not None
    artifacts = Artifacts(tmp_path / "data", S3Store(settings))
    from datetime import UTC, datetime

    created = datetime(2026, 12, 7, tzinfo=UTC)
    saved = artifacts.save_inputs("abc123", created, png_bytes())
    assert saved.input_path == "jobs/2026/12/abc123/input.png"
    assert artifacts.read(saved.input_path) == png_bytes()
    assert artifacts.read(tmp_path / "data" / saved.input_path) == png_bytes()  # as the store reports it
    assert not (tmp_path / "data" / "jobs").exists()
    artifacts.seal("abc123", created)
    assert artifacts.is_sealed("abc123", created)
    with pytest.raises(ArtifactError, match="finished job"):
        artifacts.save_file("abc123", created, "extra.png", png_bytes())
    artifacts.save_inputs("def456", created, png_bytes())
    artifacts.remove_unfinished("def456", created)
    assert artifacts.files.list("jobs/2026/12/def456/") == []
    with pytest.raises(ArtifactError, match="cannot read"):
        artifacts.read("jobs/2026/12/def456/input.png")


def test_a_local_job_keeps_its_files_in_the_bucket(
    s3_env: dict[str, str], moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STUDIO_CUTOUT_MODEL", "fast")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    bucket = s3_env["STUDIO_STORAGE"].removeprefix("s3://").split("/")[0]
    studio = Studio(load_settings(secrets_path=tmp_path / "none.toml"), worker_threads=0)
    try:
        image = studio.prepare_image(product_photo((320, 260)), "mug.png")
        job_id = studio.submit_job(
            JobRequest(
                Operation.PROMPT_BACKGROUND, "local", image, prompt="white marble", count=2, size=(256, 256)
            )
        )
        studio.run_pending()
        job = studio.get_job(job_id)
        assert job is not None and job.status == JobStatus.SUCCEEDED, job and job.error
        keys = keys_in(moto_endpoint, bucket, "team/jobs/")
        folder = f"team/{studio.artifacts.job_dir(job_id, job.created_at)}"
        for name in (
            "input.png",
            "out_01.png",
            "out_01_thumb.jpg",
            "out_02.png",
            "used_mask.png",
            ".finished",
        ):
            assert f"{folder}/{name}" in keys, keys
        assert not (tmp_path / "data" / "jobs").exists(), "nothing of the job on the app's disk"
        # Read back as the job view names them (data folder + key), as pages and exports do.
        for path in (job.input_path, job.outputs[0].path, job.outputs[0].thumbnail_path):
            assert path is not None and studio.artifacts.read(path)[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0")
        read = stored_sources(studio.artifacts.files, studio.settings.data_dir)
        assert read(Path(job.outputs[1].path))[:4] == b"\x89PNG"
    finally:
        studio.close()


def test_the_default_is_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STUDIO_STORAGE", raising=False)
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    studio = Studio(load_settings(secrets_path=tmp_path / "none.toml"), worker_threads=0)
    try:
        assert isinstance(studio.artifacts.files, FolderStore)
        assert studio.artifacts.files.root == tmp_path / "data"
    finally:
        studio.close()


def test_a_failed_batch_item_is_retried_from_the_bucket(s3_env: dict[str, str], tmp_path: Path) -> None:
    """Retry reads the failed job's photo through the file store: nothing of it is on this disk."""
    from providers.errors import QuotaExhaustedError
    from tests.studio.fakes import SyncFake
    from tests.studio.test_batches import items, run_all
    from tests.studio.test_service import make_studio

    studio = make_studio(tmp_path, s3_env)
    try:
        fake = studio.adapters["fake_sync"]
        assert isinstance(fake, SyncFake)
        fake.script = [QuotaExhaustedError("fake_sync", "quota_exhausted", "Top up the account.")]
        batch_id = studio.batches.start(items(studio, 2))
        run_all(studio)
        assert studio.batches.progress(batch_id).by_status == {"failed": 1, "succeeded": 1}
        assert not (tmp_path / "data" / "jobs").exists()
        assert studio.batches.retry_failed(batch_id) == 1
        run_all(studio)
        assert studio.batches.progress(batch_id).by_status == {"failed": 1, "succeeded": 2}
    finally:
        studio.close()
