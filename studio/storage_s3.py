"""Job files in an S3-compatible bucket (AWS, MinIO, Alibaba OSS, Tencent COS): `S3Store`.

Keys are the same relative paths the folder store uses, under the settings' prefix.
A put is one object write (S3 replaces objects whole, so a reader never sees half a
file); big files go up as a multipart upload through boto3's transfer manager.
Errors become `StorageUnavailable` naming the bucket and endpoint, never the keys.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from studio.hosting import new_s3_client
from studio.storage import CHUNK_BYTES, FileMissing, FileStore, FolderStore, StorageUnavailable, check_key
from studio.storage_settings import StorageSettings

logger = logging.getLogger(__name__)
T = TypeVar("T")
_MISSING = {"NoSuchKey", "404", "NotFound"}


class S3Store:
    """Keys as objects under `settings.prefix` in `settings.bucket`."""

    def __init__(self, settings: StorageSettings, client: Any = None) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self.prefix = settings.prefix
        self.client = client or new_s3_client(
            settings.as_hosting(),
            access_key_id=settings.access_key_id,
            secret_access_key=settings.secret_access_key,
        )
        self.label = f"bucket {settings.describe()}"

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put_bytes(self, key: str, data: bytes) -> None:
        full = self._key(key)
        self._call("store a file", lambda: self.client.put_object(Bucket=self.bucket, Key=full, Body=data))

    def put_stream(self, key: str, source: BinaryIO) -> None:
        from boto3.s3.transfer import TransferConfig

        full = self._key(key)
        config = TransferConfig(multipart_chunksize=8 * CHUNK_BYTES, multipart_threshold=8 * CHUNK_BYTES)
        self._call(
            "store a file", lambda: self.client.upload_fileobj(source, self.bucket, full, Config=config)
        )

    def get_bytes(self, key: str) -> bytes:
        with self.open_stream(key) as stream:
            return stream.read()

    def open_stream(self, key: str) -> BinaryIO:
        full = self._key(key)
        answer = self._call("read a file", lambda: self.client.get_object(Bucket=self.bucket, Key=full), key)
        body: BinaryIO = answer["Body"]
        return body

    def exists(self, key: str) -> bool:
        full = self._key(key)
        try:
            self._call("look for a file", lambda: self.client.head_object(Bucket=self.bucket, Key=full), key)
        except FileMissing:
            return False
        return True

    def delete(self, key: str) -> None:
        full = self._key(key)
        # S3 answers 204 for a missing key; some compatible stores answer NoSuchKey.
        with contextlib.suppress(FileMissing):
            self._call("delete a file", lambda: self.client.delete_object(Bucket=self.bucket, Key=full), key)

    def delete_prefix(self, prefix: str) -> None:
        for key in self.list(prefix):
            self.delete(key)

    def list(self, prefix: str = "") -> list[str]:
        if prefix:
            check_key(prefix.rstrip("/"))
        paginator = self.client.get_paginator("list_objects_v2")

        def collect() -> list[str]:
            keys: list[str] = []
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                keys.extend(str(item["Key"])[len(self.prefix) :] for item in page.get("Contents", ()))
            return keys

        return sorted(self._call("list files", collect))

    def local_path(self, key: str) -> Path | None:
        return None

    def check(self) -> None:
        """Raise `StorageUnavailable` unless the bucket answers."""
        self._call("reach the bucket", lambda: self.client.head_bucket(Bucket=self.bucket))

    def _call(self, action: str, call: Callable[[], T], key: str | None = None) -> T:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call()
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if key is not None and code in _MISSING:
                raise FileMissing(f"{key} is not in the {self.label}") from None
            logger.warning("could not %s in the %s (%s)", action, self.label, code or "error")
            raise StorageUnavailable(
                f"Could not {action} in the {self.label}: the store answered {code or 'an error'}; check "
                "the bucket name, STUDIO_STORAGE_ENDPOINT and the storage keys"
            ) from None
        except BotoCoreError as exc:
            logger.warning("could not %s in the %s (%s)", action, self.label, type(exc).__name__)
            raise StorageUnavailable(
                f"Could not {action} in the {self.label} ({type(exc).__name__}); check that the endpoint is "
                "reachable and the storage keys are set"
            ) from None


def build_file_store(settings: StorageSettings | None, data_dir: Path) -> FileStore:
    """The store job files go through: the bucket when `settings` names one, else the data folder."""
    if settings is None:
        return FolderStore(data_dir)
    return S3Store(settings)
