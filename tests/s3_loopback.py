"""A moto S3 server on 127.0.0.1 for the shared-files tests, and the environment that points at it.

`moto_endpoint` is one server per test module; `s3_env` clears the machine's own AWS
configuration (no profile, no instance metadata), sets fake keys and a fresh bucket, and
returns the `STUDIO_STORAGE*` variables that send job files there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

FAKE_KEY_ID = "AKIAEXAMPLESTORAGE01"
FAKE_SECRET = "storage-secret-never-logged-0123456789"
_AWS_NAMES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
)


def no_aws_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never pick up the machine's own AWS profile or keys, and never ask an instance-metadata service."""
    for name in _AWS_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def new_bucket(endpoint: str) -> str:
    name = f"studio-{uuid.uuid4().hex[:12]}"
    client(endpoint).create_bucket(Bucket=name)
    return name


def client(endpoint: str) -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=FAKE_KEY_ID,
        aws_secret_access_key=FAKE_SECRET,
    )


def keys_in(endpoint: str, bucket: str, prefix: str = "") -> list[str]:
    answer = client(endpoint).list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(str(item["Key"]) for item in answer.get("Contents", ()))


@pytest.fixture()
def s3_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """A fresh bucket and the environment that keeps job files in it (under `team/`)."""
    no_aws_config(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    bucket = new_bucket(moto_endpoint)
    variables = {
        "STUDIO_STORAGE": f"s3://{bucket}/team",
        "STUDIO_STORAGE_ENDPOINT": moto_endpoint,
        "STUDIO_STORAGE_REGION": "us-east-1",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return variables
